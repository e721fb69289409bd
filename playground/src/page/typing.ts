/**
 * Predictions as you type (issue 14): for a text classifier, a box whose text the training
 * worker reads through the fitted tokenizer and the model (`src/typing.ts`) at every key, and
 * again as the model learns; the page shows the tokens read and a bar per class. The typed text
 * and the class names go in through `textContent` only.
 */
import { CLASS_COLORS } from "../picture.js";
import type { TextPrediction, TrainRequest } from "../protocol.js";
import { ui } from "./ui.js";

export class TypingPanel {
  /** The prediction shown, and how many have been shown (for the tests). */
  last: TextPrediction | undefined;
  updates = 0;

  constructor(private readonly send: (m: TrainRequest) => void) {
    ui.typeText.addEventListener("input", () => this.ask());
  }

  private ask(): void {
    this.send({ type: "predict", text: ui.typeText.value });
  }

  /** A new run: the box is there for a text classifier, and asks again for what it holds. */
  reset(text: boolean): void {
    this.last = undefined;
    ui.typingCard.hidden = !text;
    ui.typingTokens.replaceChildren();
    ui.typingBars.replaceChildren();
    if (text && ui.typeText.value !== "") this.ask();
  }

  show(p: TextPrediction): void {
    // An answer about text that is no longer in the box is old news.
    if (p.text !== ui.typeText.value) return;
    this.last = p;
    this.updates++;
    ui.typingTokens.textContent = p.tokens.length > 0 ? `read as: ${p.tokens.map((t) => (t === " " ? "␣" : t)).join(" · ")} (after epoch ${p.epoch})` : "";
    ui.typingBars.replaceChildren(
      ...p.classes.map((name, k) => {
        const row = document.createElement("div");
        row.className = "typing-row";
        row.dataset["class"] = name;
        row.dataset["p"] = String(p.probs[k]);
        const label = Object.assign(document.createElement("span"), { className: "name", textContent: name, title: name });
        const track = Object.assign(document.createElement("span"), { className: "track" });
        const fill = Object.assign(document.createElement("span"), { className: "fill" });
        fill.style.display = "block";
        fill.style.width = `${Math.round(100 * Math.max(0, Math.min(1, p.probs[k]!)))}%`;
        fill.style.background = CLASS_COLORS[k % CLASS_COLORS.length]!;
        track.append(fill);
        const pct = Object.assign(document.createElement("span"), { className: "pct", textContent: `${(100 * p.probs[k]!).toFixed(1)}%` });
        row.append(label, track, pct);
        return row;
      }),
    );
  }
}
