import type { DroppedFile, FilesSource } from '../models/modelSource';

let lastDropId = 0;

/** A model source from dropped or chosen files; the loader matches them to config.json, model.safetensors, … by name. */
export function filesSource(files: DroppedFile[]): FilesSource {
  const folders = new Set(files.map((f) => (f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '')));
  const [folder] = folders;
  const label = folders.size === 1 && folder ? folder : 'model files';
  lastDropId += 1;
  return { kind: 'files', label, files, dropId: lastDropId };
}

/** Files from an <input type="file">; a folder chosen with `webkitdirectory` keeps its relative paths. */
export function filesFromInput(list: FileList): DroppedFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Files from a drop, walking into dropped folders (DataTransfer lists only the folder itself). */
export async function filesFromDrop(transfer: DataTransfer): Promise<DroppedFile[]> {
  const entries = Array.from(transfer.items, (item) => item.webkitGetAsEntry()).filter((entry) => entry !== null);
  if (entries.length === 0) return Array.from(transfer.files, (file) => ({ path: file.name, file }));
  return (await Promise.all(entries.map((entry) => walk(entry, '')))).flat();
}

async function walk(entry: FileSystemEntry, parent: string): Promise<DroppedFile[]> {
  const path = parent + entry.name;
  if (isFile(entry)) return [{ path, file: await new Promise<File>((resolve, reject) => entry.file(resolve, reject)) }];
  if (!isDirectory(entry)) return [];
  const reader = entry.createReader();
  const children: FileSystemEntry[] = [];
  // readEntries answers in batches (100 in Chromium) until it returns an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map((child) => walk(child, `${path}/`)))).flat();
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}

function isDirectory(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory;
}
