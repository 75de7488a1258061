/**
 * The store passphrase: KLOSET_PASSPHRASE (or plakar's PLAKAR_PASSPHRASE), else a hidden prompt
 * when stdin is a terminal, else a clear error. Never logged, never written anywhere.
 */
import { KlosetError } from '../kloset/base/errors.js';

export async function readPassphrase(prompt: string, confirm = false): Promise<Uint8Array> {
  const env = process.env.KLOSET_PASSPHRASE ?? process.env.PLAKAR_PASSPHRASE;
  if (env !== undefined && env !== '') return new TextEncoder().encode(env);
  if (!process.stdin.isTTY) {
    throw new KlosetError('AUTH', 'no passphrase: set KLOSET_PASSPHRASE (or PLAKAR_PASSPHRASE), or run in a terminal to be asked');
  }
  const first = await hiddenPrompt(prompt);
  if (confirm && (await hiddenPrompt('repeat passphrase: ')) !== first) throw new KlosetError('AUTH', 'passphrases do not match');
  if (first === '') throw new KlosetError('AUTH', 'empty passphrase');
  return new TextEncoder().encode(first);
}

function hiddenPrompt(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new KlosetError('CANCELLED', 'interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    stdin.on('data', onData);
  });
}
