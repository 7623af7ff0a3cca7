/** Flag parsers for commander: they throw commander's InvalidArgumentError (exit code 2). */
import { InvalidArgumentError } from 'commander';

export function parseInteger(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`${flag} expects an integer, got "${value}".`);
    return v;
  };
}

export function parseNumber(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}".`);
    return v;
  };
}

export function parsePair(flag: string): (value: string) => [number, number] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.length < 1 || parts.length > 2 || parts.some((s) => s === '') || nums.some((v) => !Number.isFinite(v))) {
      throw new InvalidArgumentError(`${flag} expects "W,H" or one number for both, got "${value}".`);
    }
    return parts.length === 1 ? [nums[0]!, nums[0]!] : [nums[0]!, nums[1]!];
  };
}
