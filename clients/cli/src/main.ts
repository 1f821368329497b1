#!/usr/bin/env node
// tailorctl: command-line client of the Tailor gateway, plus offline `apk`
// tools that work on local files.
import { apkCommand, apkUsage } from "./commands/apk/apk-command.js";
import { buildCommand, buildUsage } from "./commands/build/build-command.js";
import { healthCommand } from "./commands/health-command.js";
import { processIo } from "./commands/io.js";

const usage = `usage: tailorctl [--url URL] <command>

commands:
  health     every service's health as the gateway sees it (exit 1 if any is down)
  apk        offline APK tools (inspect, verify, index, resolve, version); see \`tailorctl apk\`
  build      assemble an image from an apko-style YAML and APK repositories into an OCI layout, offline

options:
  --url URL  gateway URL (default: $TAILOR_URL or http://127.0.0.1:8080)

${apkUsage}

tailorctl ${buildUsage.replace(/^usage: tailorctl /, "")}`;

const args = process.argv.slice(2);
let url = process.env.TAILOR_URL ?? "http://127.0.0.1:8080";
if (args[0] === "--url") {
  url = args[1] ?? url;
  args.splice(0, 2);
}

switch (args[0]) {
  case "health": {
    const result = await healthCommand(url);
    console.log(result.text);
    process.exitCode = result.exitCode;
    break;
  }
  case "build":
    process.exitCode = await buildCommand(args.slice(1), processIo);
    break;
  case "apk":
    process.exitCode = await apkCommand(args.slice(1), processIo);
    break;
  case undefined:
  case "help":
  case "--help":
    console.log(usage);
    break;
  default:
    console.error(`tailorctl: unknown command "${args[0]}"\n\n${usage}`);
    process.exitCode = 2;
}
