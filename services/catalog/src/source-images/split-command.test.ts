import { describe, expect, it } from "vitest";
import { CommandSyntaxError, splitCommand } from "./split-command.js";

describe("splitCommand", () => {
  it("splits at blanks like a shell", () => {
    expect(splitCommand("/bin/sh -l")).toEqual(["/bin/sh", "-l"]);
    expect(splitCommand("  /usr/bin/python3   -m\thttp.server  ")).toEqual([
      "/usr/bin/python3",
      "-m",
      "http.server",
    ]);
    expect(splitCommand("")).toEqual([]);
  });

  it("keeps quoted words together and drops the quotes", () => {
    expect(splitCommand('/usr/sbin/nginx -c /etc/nginx/nginx.conf -g "daemon off;"')).toEqual([
      "/usr/sbin/nginx",
      "-c",
      "/etc/nginx/nginx.conf",
      "-g",
      "daemon off;",
    ]);
    expect(splitCommand(`python -c 'print("hi")'`)).toEqual(["python", "-c", 'print("hi")']);
    expect(splitCommand(`echo "a \\"b\\" \\$HOME \\n"`)).toEqual(["echo", 'a "b" $HOME \\n']);
    expect(splitCommand(`a""b ''`)).toEqual(["ab", ""]);
  });

  it("honours backslash escapes outside quotes and does no expansion", () => {
    expect(splitCommand("echo a\\ b $HOME *")).toEqual(["echo", "a b", "$HOME", "*"]);
  });

  it("refuses unterminated quotes and a trailing backslash", () => {
    expect(() => splitCommand('echo "oops')).toThrow(CommandSyntaxError);
    expect(() => splitCommand("echo 'oops")).toThrow(/unterminated ' quote at character 6/);
    expect(() => splitCommand("echo \\")).toThrow(/lone backslash/);
  });
});
