// Loaded with `node --import` by the benchmarks: appends this process's own peak RSS (KiB) to
// $KLOSET_RSS_FILE at exit. Child processes (the Argon2id one) are not included: GNU time's
// figure is the largest of the process tree, which for an encrypted store is the KDF child.
import { appendFileSync } from 'node:fs';

const file = process.env.KLOSET_RSS_FILE;
if (file) process.on('exit', () => appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
