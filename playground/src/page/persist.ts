/**
 * Keeping the work: every edit is saved in local storage (the source and the seed), a share
 * link carries the source, data choice and seed in the URL hash, and the hash is dropped from
 * the address bar at the first edit after it, so a reload never swaps newer edits for the
 * shared text. Opening a link over other saved work keeps that work one click away.
 */
import { decodeShare, encodeShare, type Shared } from "../share.js";
import { setNotice, ui } from "./ui.js";

const DRAFT = "nnc.playground.draft";
const SAVE_MS = 300;

interface Draft {
  readonly source: string;
  readonly seed: string;
}

function readDraft(): Draft | undefined {
  try {
    const d = JSON.parse(localStorage.getItem(DRAFT) ?? "null") as Draft | null;
    return d && typeof d.source === "string" ? { source: d.source, seed: typeof d.seed === "string" ? d.seed : "" } : undefined;
  } catch {
    return undefined;
  }
}

export interface PersistHooks {
  source(): string;
  setSource(text: string): void;
  share(): Omit<Shared, "source">;
  /** Restores a shared data choice (a CSV carried by the link). */
  useCsv(name: string, text: string, label: string): void;
}

export class Persist {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The source as the address bar's hash has it, while the hash is there. */
  private hashSource: string | undefined;

  constructor(private readonly hooks: PersistHooks) {
    ui.share.onclick = () => void this.shareLink();
    window.addEventListener("pagehide", () => this.save());
    // A link pasted into the address bar of the open page changes only the hash.
    window.addEventListener("hashchange", () => {
      this.save();
      void this.restore();
    });
  }

  /** The text changed: save it soon, and drop a hash that no longer matches it. */
  edited(): void {
    if (this.hashSource !== undefined && this.hooks.source() !== this.hashSource) {
      this.hashSource = undefined;
      window.history.replaceState(null, "", location.pathname + location.search);
      delete ui.share.dataset["url"];
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), SAVE_MS);
  }

  save(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      localStorage.setItem(DRAFT, JSON.stringify({ source: this.hooks.source(), seed: ui.seed.value } satisfies Draft));
    } catch {
      // Storage full or disabled: the page still works, without autosave.
    }
  }

  /**
   * The text to start with: a shared link's (keeping other saved work one click away), else
   * the saved draft, else undefined (the first example).
   */
  async restore(): Promise<"shared" | "draft" | undefined> {
    const draft = readDraft();
    if (location.hash) {
      const s = await decodeShare(location.hash);
      if (!s) {
        setNotice("This link could not be read; showing your last work or an example instead.");
        window.history.replaceState(null, "", location.pathname + location.search);
      } else {
        this.hooks.setSource(s.source);
        this.hashSource = s.source;
        if (s.seed !== undefined) ui.seed.value = String(s.seed);
        if (s.data !== "source") {
          if (s.csv) this.hooks.useCsv(s.data, s.csv.text, s.csv.label);
          else setNotice(`This link trained on ${s.data}: drop that file on the page to train on it again.`);
        }
        if (draft && draft.source !== s.source) {
          setNotice("This link replaced the text you were working on; it is kept.", [
            {
              label: "Back to my last edits",
              run: () => {
                ui.seed.value = draft.seed;
                this.hooks.setSource(draft.source);
              },
            },
          ]);
        }
        return "shared";
      }
    }
    if (draft) {
      this.hooks.setSource(draft.source);
      ui.seed.value = draft.seed;
      return "draft";
    }
    return undefined;
  }

  private async shareLink(): Promise<void> {
    const source = this.hooks.source();
    const hash = await encodeShare({ source, ...this.hooks.share() });
    window.history.replaceState(null, "", hash);
    this.hashSource = source;
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      setNotice("Link copied: it restores this source, data choice and seed.");
    } catch {
      setNotice(`Share this link: ${url}`);
    }
    ui.share.dataset["url"] = url;
  }
}
