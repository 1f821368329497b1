/** A command line could not be split into words (an unterminated quote or a trailing backslash). */
export class CommandSyntaxError extends Error {
  override readonly name = "CommandSyntaxError";
}

/**
 * Splits a command line into argv the way a POSIX shell splits words, as
 * apko does for `entrypoint.command` and `cmd`: blanks separate words,
 * single quotes keep everything literally, double quotes keep blanks and
 * honour `\"`, `\\`, `\$` and `` \` ``, and a backslash outside quotes
 * escapes the next character. No expansion of any kind happens.
 *
 * @throws CommandSyntaxError for an unterminated quote or a trailing backslash.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let index = 0;
  while (index < line.length) {
    const char = line[index] as string;
    if (char === " " || char === "\t" || char === "\n" || char === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      index += 1;
      continue;
    }
    inWord = true;
    if (char === "\\") {
      const next = line[index + 1];
      if (next === undefined) throw new CommandSyntaxError("ends with a lone backslash");
      // A backslash-newline joins lines, as in a shell.
      if (next !== "\n") word += next;
      index += 2;
      continue;
    }
    if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0)
        throw new CommandSyntaxError(`has an unterminated ' quote at character ${index + 1}`);
      word += line.slice(index + 1, end);
      index = end + 1;
      continue;
    }
    if (char === '"') {
      let cursor = index + 1;
      for (;;) {
        const inner = line[cursor];
        if (inner === undefined) {
          throw new CommandSyntaxError(`has an unterminated " quote at character ${index + 1}`);
        }
        if (inner === '"') break;
        const escaped = line[cursor + 1];
        if (inner === "\\" && escaped !== undefined && '"\\$`'.includes(escaped)) {
          word += escaped;
          cursor += 2;
          continue;
        }
        word += inner;
        cursor += 1;
      }
      index = cursor + 1;
      continue;
    }
    word += char;
    index += 1;
  }
  if (inWord) words.push(word);
  return words;
}
