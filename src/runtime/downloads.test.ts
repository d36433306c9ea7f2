import { describe, expect, test } from 'vitest';
import { DownloadTally, type DownloadProgress } from './downloads';

describe('the download progress of a model and its dense reference', () => {
  test("counts the reference runtime's bytes from the start, so the bar is not full while they are still to come", () => {
    const reports: DownloadProgress[] = [];
    const tally = new DownloadTally(14_000, (progress) => reports.push(progress));
    tally.model({ loadedBytes: 0, totalBytes: 2_000 });
    tally.model({ loadedBytes: 2_000, totalBytes: 2_000 });
    expect(reports.at(-1)).toEqual({ loadedBytes: 2_000, totalBytes: 16_000, includesReferenceRuntime: true });
    tally.reference({ loadedBytes: 7_000, totalBytes: 14_000 });
    expect(reports.at(-1)).toEqual({ loadedBytes: 9_000, totalBytes: 16_000, includesReferenceRuntime: true });
    tally.reference({ loadedBytes: 14_000, totalBytes: 14_000 });
    expect(reports.at(-1)).toEqual({ loadedBytes: 16_000, totalBytes: 16_000, includesReferenceRuntime: true });
  });

  test("keeps the total unknown while a model file's size is, and drops the runtime for a model without ONNX", () => {
    const reports: DownloadProgress[] = [];
    const tally = new DownloadTally(14_000, (progress) => reports.push(progress));
    tally.model({ loadedBytes: 500, totalBytes: null });
    expect(reports.at(-1)).toEqual({ loadedBytes: 500, totalBytes: null, includesReferenceRuntime: true });
    tally.model({ loadedBytes: 900, totalBytes: 900 });
    tally.noReference();
    expect(reports.at(-1)).toEqual({ loadedBytes: 900, totalBytes: 900, includesReferenceRuntime: false });
  });
});
