import { randomInt } from 'node:crypto';

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** A random string of `length` characters of `alphabet` (ids and secrets of the stand-ins). */
export function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}
