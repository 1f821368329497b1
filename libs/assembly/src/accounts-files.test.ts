import { describe, expect, it } from "vitest";
import { accountFiles } from "./accounts-files.js";
import { InvalidAssemblyInputError } from "./errors.js";

describe("accountFiles", () => {
  const packaged = {
    passwd:
      "root:x:0:0:root:/root:/bin/ash\n# comment\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
    group: "root:x:0:root\nnobody:x:65534:\n",
  };

  it("keeps packaged lines, replaces same-named entries in place and appends new ones", () => {
    const files = accountFiles(
      {
        users: [
          { username: "nobody", uid: 65534, homedir: "/nonexistent" },
          { username: "app", uid: 1000, gid: 1001, shell: "/bin/sh", gecos: "App" },
        ],
        groups: [{ groupname: "app", gid: 1001, members: ["app"] }],
      },
      packaged,
    );
    expect(files.passwd).toBe(
      "root:x:0:0:root:/root:/bin/ash\n# comment\nnobody:x:65534:65534::/nonexistent:/sbin/nologin\napp:x:1000:1001:App:/home/app:/bin/sh\n",
    );
    expect(files.group).toBe("root:x:0:root\nnobody:x:65534:\napp:x:1001:app\n");
  });

  it("leaves packaged files alone without accounts, and writes root when nothing is packaged", () => {
    expect(accountFiles(undefined, packaged)).toEqual({});
    expect(accountFiles(undefined, {})).toEqual({
      passwd: "root:x:0:0:root:/root:/bin/sh\n",
      group: "root:x:0:root\n",
    });
  });

  it("refuses malformed accounts, naming the field", () => {
    expect(() => accountFiles({ users: [{ username: "bad:name", uid: 1 }] }, {})).toThrow(
      InvalidAssemblyInputError,
    );
    expect(() => accountFiles({ users: [{ username: "ok", uid: -1 }] }, {})).toThrow(
      "config.accounts.users[0].uid: -1 is not an id from 0 to 2147483647",
    );
    expect(() =>
      accountFiles(
        { users: [{ username: "ok", uid: 1, shell: "/bin/sh\nroot::0:0::/:/bin/sh" }] },
        {},
      ),
    ).toThrow(/config.accounts.users\[0\].shell/);
  });
});
