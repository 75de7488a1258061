/**
 * Directory summaries (spec §9.6): `directory` counts a directory's direct children, `below`
 * everything deeper, computed bottom-up once all entries are known.
 */
import { GoMode } from './file-info.js';
import type { BelowSummary, DirectorySummary, Summary, SummaryCounters } from './summary.js';

export interface SummaryInput {
  mode: number;
  size: bigint;
  modTimeSec: number;
  entropy: number;
  contentType: string;
  chunks: number;
  isError?: boolean;
}

function emptyCounters(): SummaryCounters {
  return {
    directories: 0n, files: 0n, symlinks: 0n, devices: 0n, pipes: 0n, sockets: 0n, children: 0n,
    setuid: 0n, setgid: 0n, sticky: 0n, objects: 0n, chunks: 0n, minSize: 0n, maxSize: 0n, size: 0n,
    minModTime: 0n, maxModTime: 0n, minEntropy: 0, maxEntropy: 0, hiEntropy: 0n, loEntropy: 0n,
    mimeAudio: 0n, mimeVideo: 0n, mimeImage: 0n, mimeText: 0n, mimeApplication: 0n, mimeOther: 0n, errors: 0n,
  };
}

export function emptySummary(): Summary {
  return { directory: { ...emptyCounters(), avgSize: 0n, sumEntropy: 0, avgEntropy: 0 }, below: emptyCounters() };
}

/** Adds one direct child (file, link, special or directory) to a directory's own counters. */
export function addChild(d: DirectorySummary, c: SummaryInput): void {
  d.children++;
  if (c.isError) {
    d.errors++;
    return;
  }
  if (c.mode & GoMode.dir) d.directories++;
  else if (c.mode & GoMode.symlink) d.symlinks++;
  else if (c.mode & GoMode.device) d.devices++;
  else if (c.mode & GoMode.namedPipe) d.pipes++;
  else if (c.mode & GoMode.socket) d.sockets++;
  else {
    d.files++;
    d.objects++;
    d.chunks += BigInt(c.chunks);
    d.size += c.size;
    d.minSize = d.files === 1n || c.size < d.minSize ? c.size : d.minSize;
    d.maxSize = c.size > d.maxSize ? c.size : d.maxSize;
    d.sumEntropy += c.entropy;
    d.minEntropy = d.files === 1n || c.entropy < d.minEntropy ? c.entropy : d.minEntropy;
    d.maxEntropy = Math.max(d.maxEntropy, c.entropy);
    if (c.entropy >= 7.0) d.hiEntropy++;
    if (c.entropy <= 2.0) d.loEntropy++;
    const major = c.contentType.split('/')[0];
    if (major === 'audio') d.mimeAudio++;
    else if (major === 'video') d.mimeVideo++;
    else if (major === 'image') d.mimeImage++;
    else if (major === 'text') d.mimeText++;
    else if (major === 'application') d.mimeApplication++;
    else d.mimeOther++;
  }
  if (c.mode & GoMode.setuid) d.setuid++;
  if (c.mode & GoMode.setgid) d.setgid++;
  if (c.mode & GoMode.sticky) d.sticky++;
  const t = BigInt(c.modTimeSec);
  d.minModTime = d.children === 1n || t < d.minModTime ? t : d.minModTime;
  d.maxModTime = t > d.maxModTime ? t : d.maxModTime;
}

export function finishDirectory(d: DirectorySummary): void {
  if (d.files > 0n) {
    d.avgSize = d.size / d.files;
    d.avgEntropy = d.sumEntropy / Number(d.files);
  }
}

/** Folds a child directory's whole summary (its own and below) into its parent's `below`. */
export function addBelow(parent: BelowSummary, child: Summary): void {
  for (const part of [child.directory, child.below] as SummaryCounters[]) {
    const hadFiles = parent.files > 0n;
    for (const k of ['directories', 'files', 'symlinks', 'devices', 'pipes', 'sockets', 'children', 'setuid', 'setgid',
      'sticky', 'objects', 'chunks', 'size', 'hiEntropy', 'loEntropy', 'mimeAudio', 'mimeVideo', 'mimeImage', 'mimeText',
      'mimeApplication', 'mimeOther', 'errors'] as const) {
      (parent[k] as bigint) += part[k] as bigint;
    }
    if (part.files > 0n) {
      parent.minSize = !hadFiles || part.minSize < parent.minSize ? part.minSize : parent.minSize;
      parent.maxSize = part.maxSize > parent.maxSize ? part.maxSize : parent.maxSize;
      parent.minEntropy = !hadFiles || part.minEntropy < parent.minEntropy ? part.minEntropy : parent.minEntropy;
      parent.maxEntropy = Math.max(parent.maxEntropy, part.maxEntropy);
    }
    if (part.children > 0n) {
      parent.minModTime = parent.minModTime === 0n || part.minModTime < parent.minModTime ? part.minModTime : parent.minModTime;
      parent.maxModTime = part.maxModTime > parent.maxModTime ? part.maxModTime : parent.maxModTime;
    }
  }
}
