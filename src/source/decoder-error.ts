/**
 * What a decoder's failure means, in words. apache-arrow, parquet-wasm and hyparquet report damaged data in
 * their own terms ("unreachable", "Cannot read properties of undefined (reading 'length')", "Expected to
 * read 1068716572 metadata bytes, but only read 31970"); the user is told what is wrong with the file, and
 * the library's error stays as the `cause` (printed by the CLI with --verbose).
 */
const REASONS: readonly (readonly [RegExp, string])[] = [
  [/made no progress/, 'the decoder made no progress for too long (a loop on damaged data, or a machine too loaded to decode in time)'],
  [/memory limit|out of memory/i, 'decoding it took more memory than allowed (damaged sizes or counts)'],
  [/unreachable|panick|RuntimeError|memory access out of bounds/i, 'the data is damaged (the decoder could not go on)'],
  [/compress|snappy|zstd|lz4|gzip|brotli|inflate|deflate/i, 'a compressed page does not decompress (damaged data)'],
  [/utf-?8|invalid string/i, 'a text value is not valid UTF-8 (damaged data)'],
  [/expected to read|only read|truncat|unexpected end|\beof\b|end of (file|buffer)|out of range|outside the bounds|offset is outside|invalid typed array length|beyond|exceeds|too (large|big|short)|overflow/i,
    'a length or offset points past the end of the data (cut short or damaged)'],
  [/magic|not a parquet|invalid parquet|footer|thrift|protocol/i, 'the file does not have the structure of its format (damaged, cut short, or another format)'],
  [/not supported|unsupported|not implemented|unknown (type|encoding|codec)|unrecognized/i, 'it uses an encoding or a type this reader does not support, or the metadata naming it is damaged'],
  [/cannot read propert|undefined|null|is not a function|is not iterable|invalid/i, 'its metadata is damaged (a required part is missing or of the wrong kind)'],
];

export function decoderReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  for (const [pattern, reason] of REASONS) if (pattern.test(text)) return reason;
  return 'the data is damaged or not in the expected format';
}
