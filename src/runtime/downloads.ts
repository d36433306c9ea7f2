import type { LoadProgress } from '../models/modelFiles';

/** What the page is downloading before a model's results are complete, as one progress bar shows it. */
export interface DownloadProgress extends LoadProgress {
  /** Whether onnxruntime-web (the dense reference's runtime) is among the bytes. */
  includesReferenceRuntime: boolean;
}

/**
 * Sums the downloads of one model load: its files, then onnxruntime-web's runtime for its dense reference. The
 * runtime's bytes count from the start, so the bar does not read full while most of a first visit (14 of its 15.7
 * MB) is still to come; they are dropped if the model turns out to have no ONNX export to run.
 */
export class DownloadTally {
  #model: LoadProgress = { loadedBytes: 0, totalBytes: null };
  #reference: { loadedBytes: number; totalBytes: number };
  readonly #onProgress: (progress: DownloadProgress) => void;

  constructor(referenceRuntimeBytes: number, onProgress: (progress: DownloadProgress) => void) {
    this.#reference = { loadedBytes: 0, totalBytes: referenceRuntimeBytes };
    this.#onProgress = onProgress;
  }

  model(progress: LoadProgress): void {
    this.#model = progress;
    this.#report();
  }

  reference(progress: { loadedBytes: number; totalBytes: number }): void {
    this.#reference = progress;
    this.#report();
  }

  /** The model has no ONNX export, so no reference runtime is downloaded. */
  noReference(): void {
    this.reference({ loadedBytes: 0, totalBytes: 0 });
  }

  #report(): void {
    const { totalBytes } = this.#model;
    this.#onProgress({
      loadedBytes: this.#model.loadedBytes + this.#reference.loadedBytes,
      totalBytes: totalBytes === null ? null : totalBytes + this.#reference.totalBytes,
      includesReferenceRuntime: this.#reference.totalBytes > 0,
    });
  }
}
