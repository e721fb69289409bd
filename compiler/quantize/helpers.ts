/**
 * The JavaScript functions a quantized module carries (emitted as text, only those it calls):
 * quantizing a tensor to 8 bits, unfolding a convolution's windows, pooling, softmax and the
 * float product the calibration module runs. Each works on any typed array, so the int8 and
 * the float module share them.
 */

export const HELPERS: Readonly<Record<string, string>> = {
  // x → q − zero, q = clamp(nearest(x / scale) + zero, 0, 255) with ties to even as the kernel's
  // f32x4.nearest, rows of k values padded with zeros to kp (where rows are not in eights).
  quantizeRows: `function quantizeRows(src, rows, k, dst, kp, inv, zero) {
  for (let r = 0; r < rows; r++) {
    const s = r * k;
    const d = r * kp;
    for (let i = 0; i < k; i++) {
      const t = Math.fround(src[s + i] * inv);
      let q = Math.round(t);
      if (q - t === 0.5 && q % 2 !== 0) q--;
      q += zero;
      dst[d + i] = (q < 0 ? 0 : q > 255 ? 255 : q) - zero;
    }
    for (let i = k; i < kp; i++) dst[d + i] = 0;
  }
}`,
  // The window of every output pixel of every sample as a row of kp values (kh·kw·c, then zeros); outside the image, zeros.
  unfold: `function unfold(src, n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow, dst, kp) {
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = d;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              for (let ch = 0; ch < c; ch++) dst[d++] = 0;
            } else {
              const s = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) dst[d++] = src[s + ch];
            }
          }
        }
        for (; d < row + kp; d++) dst[d] = 0;
      }
    }
  }
}`,
  // The largest value of each window, per channel; windows count only the pixels inside the image.
  maxpool: `function maxpool(src, n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow, dst) {
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              const v = src[((b * h + iy) * w + ix) * c + ch];
              if (v > best) best = v;
            }
          }
          dst[d++] = best;
        }
      }
    }
  }
}`,
  // The mean of each window, per channel, over the pixels inside the image.
  avgpool: `function avgpool(src, n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow, dst) {
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              sum += src[((b * h + iy) * w + ix) * c + ch];
              count++;
            }
          }
          dst[d++] = sum / count;
        }
      }
    }
  }
}`,
  // Each row of m values → exp(v − max) / Σ.
  softmax: `function softmax(y, rows, m) {
  for (let r = 0; r < rows; r++) {
    const o = r * m;
    let max = -Infinity;
    for (let j = 0; j < m; j++) if (y[o + j] > max) max = y[o + j];
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const e = Math.exp(y[o + j] - max);
      y[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < m; j++) y[o + j] /= sum;
  }
}`,
  // y[r, o] = Σ_i x[r, i]·w[o, i] + bias[o], in float (the calibration module).
  productFloat: `function productFloat(x, rows, k, w, bias, m, y) {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < m; o++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += x[r * k + i] * w[o * k + i];
      y[r * m + o] = s + (bias.length > 0 ? bias[o] : 0);
    }
  }
}`,
  // The base64 text of a payload → its bytes.
  bytesOf: `function bytesOf(text) {
  const s = atob(text);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}`,
};

/** Base64 of bytes (no Node `Buffer`: the compiler is browser-safe). */
export function base64(bytes: Uint8Array): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += abc[a >> 2]! + abc[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? "=" : abc[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? "=" : abc[c & 63]!;
  }
  return out;
}
