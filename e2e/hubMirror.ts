import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';

export interface HubMirror {
  /** The base URL to give the page as its hub endpoint, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every path asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export interface HubMirrorOptions {
  /** Paths in the repository the mirror answers 404 for, as a repository without them would (e.g. `eval.json`). */
  withoutFiles?: readonly string[];
}

const modelsDir = new URL('../public/models/', import.meta.url);

/**
 * The Hugging Face hub's file layout, `/{owner}/{repo}/resolve/{revision}/{file}`, served from the bundled model
 * folders (the repository's last segment names the folder; any owner and revision work), with the hub's CORS header
 * and its 404 for a missing file. The real hub cannot be reached from the test machines. A hub repository has only
 * the files its authors put there: `withoutFiles` leaves out this project's additions, such as a bundled model's
 * eval.json.
 */
export async function startHubMirror({ withoutFiles = [] }: HubMirrorOptions = {}): Promise<HubMirror> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://mirror').pathname);
    requests.push(path);
    response.setHeader('Access-Control-Allow-Origin', '*');
    const match = /^\/(?:[\w.-]+\/)?([\w.-]+)\/resolve\/[^/]+\/((?:[\w.-]+\/)*[\w.-]+)$/.exec(path);
    const notFound = () => {
      response.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
    };
    if (!match || match[2]!.split('/').includes('..') || withoutFiles.includes(match[2]!)) return notFound();
    readFile(new URL(`${match[1]}/${match[2]}`, modelsDir)).then(
      (bytes) => response.writeHead(200, { 'Content-Length': bytes.byteLength }).end(bytes),
      notFound,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Loads a repository from the mirror through the page's "Other model" form. */
export async function loadFromHub(page: Page, mirror: HubMirror, repo: string): Promise<void> {
  await page.getByTestId('model-picker').selectOption('other');
  await page.getByTestId('hub-endpoint').fill(mirror.url);
  await page.getByTestId('hub-repo').fill(repo);
  await page.getByTestId('hub-revision').fill('main');
  await page.getByTestId('hub-load').click();
}
