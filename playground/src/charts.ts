/** Live per-epoch charts of training and validation loss and metrics, drawn with uPlot (loaded on first use). */
import type uPlotType from "uplot";

type UPlot = uPlotType;
type UPlotCtor = typeof uPlotType;

const COLORS: Record<string, string> = {
  loss: "#f59e0b",
  val_loss: "#0ea5e9",
  accuracy: "#10b981",
  val_accuracy: "#8b5cf6",
};
const SPARE = ["#ef4444", "#ec4899", "#84cc16", "#64748b", "#14b8a6", "#a16207"];

let ctorPromise: Promise<UPlotCtor> | undefined;
function loadUPlot(): Promise<UPlotCtor> {
  ctorPromise ??= Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([m]) => m.default);
  return ctorPromise;
}

interface Chart {
  plot: UPlot;
  keys: string[];
}

export class Charts {
  private readonly epochs: number[] = [];
  private readonly series = new Map<string, number[]>();
  private loss: Chart | undefined;
  private metric: Chart | undefined;
  private pending: Promise<void> | undefined;
  /** The loss on a log scale (a spike does not flatten the rest). */
  private log = false;
  private frame: number | undefined;

  constructor(
    private readonly lossHost: HTMLElement,
    private readonly metricHost: HTMLElement,
  ) {}

  reset(): void {
    this.epochs.length = 0;
    this.series.clear();
    this.loss?.plot.destroy();
    this.metric?.plot.destroy();
    this.loss = this.metric = undefined;
    this.pending = undefined;
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    this.metricHost.hidden = false;
    for (const host of [this.lossHost, this.metricHost]) host.classList.remove("has-chart");
  }

  setLog(log: boolean): void {
    this.log = log;
    if (!this.loss) return;
    const keys = this.loss.keys;
    this.loss.plot.destroy();
    void loadUPlot().then((U) => {
      this.loss = this.make(U, this.lossHost, keys, false, this.log);
      this.update();
    });
  }

  add(epoch: number, values: Readonly<Record<string, number>>): void {
    this.epochs.push(epoch);
    for (const [k, v] of Object.entries(values)) {
      let s = this.series.get(k);
      if (!s) {
        s = new Array<number>(this.epochs.length - 1).fill(NaN);
        this.series.set(k, s);
      }
      s.push(v);
    }
    if (!this.loss) {
      this.pending ??= this.create();
      return;
    }
    // Fast runs post hundreds of epochs a second: draw once per frame.
    if (this.frame === undefined) {
      this.frame = requestAnimationFrame(() => {
        this.frame = undefined;
        this.update();
      });
    }
  }

  private async create(): Promise<void> {
    const U = await loadUPlot();
    if (this.loss || this.epochs.length === 0) return;
    const keys = [...this.series.keys()];
    const lossKeys = keys.filter((k) => k.endsWith("loss"));
    const metricKeys = keys.filter((k) => !k.endsWith("loss"));
    this.loss = this.make(U, this.lossHost, lossKeys, false, this.log);
    if (metricKeys.length > 0) this.metric = this.make(U, this.metricHost, metricKeys, metricKeys.every((k) => /accuracy|precision|recall|f1/.test(k)), false);
    else this.metricHost.hidden = true;
    this.update();
  }

  private make(U: UPlotCtor, host: HTMLElement, keys: string[], unit: boolean, log: boolean): Chart {
    host.classList.add("has-chart");
    let spare = 0;
    const width = Math.max(200, host.clientWidth - 24);
    const opts: uPlotType.Options = {
      width,
      height: 180,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: unit ? { range: [0, 1] } : log ? { distr: 3 } : { auto: true } },
      axes: [
        { stroke: "#64748b", grid: { stroke: "#f1f5f9" }, label: "epoch", labelSize: 18, size: 34 },
        { stroke: "#64748b", grid: { stroke: "#f1f5f9" }, size: 48 },
      ],
      series: [
        {},
        ...keys.map((k) => ({
          label: k,
          stroke: COLORS[k] ?? SPARE[spare++ % SPARE.length]!,
          width: 2,
          dash: k.startsWith("val_") ? [6, 3] : [],
          points: { show: false },
        })),
      ],
    };
    const plot = new U(opts, [[], ...keys.map(() => [])], host);
    return { plot, keys };
  }

  private update(): void {
    for (const c of [this.loss, this.metric]) {
      if (!c) continue;
      c.plot.setData([this.epochs, ...c.keys.map((k) => this.series.get(k) ?? [])]);
    }
  }

  /** uPlot's distribution of the loss chart's y scale (3: logarithmic), for the tests. */
  lossScale(): number | undefined {
    return this.loss?.plot.scales["y"]?.distr;
  }

  resize(): void {
    for (const [c, host] of [[this.loss, this.lossHost], [this.metric, this.metricHost]] as const) {
      if (c) c.plot.setSize({ width: Math.max(200, host.clientWidth - 24), height: 180 });
    }
  }
}
