#!/usr/bin/env node
// tailorctl: command-line client of the Tailor gateway. Commands grow with
// the gateway's API; today it reports health.
import { healthCommand } from "./health-command.js";

const usage = `usage: tailorctl [--url URL] <command>

commands:
  health     every service's health as the gateway sees it (exit 1 if any is down)

options:
  --url URL  gateway URL (default: $TAILOR_URL or http://127.0.0.1:8080)`;

const args = process.argv.slice(2);
let url = process.env.TAILOR_URL ?? "http://127.0.0.1:8080";
const rest: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--url") url = args[++i] ?? url;
  else rest.push(args[i] ?? "");
}

switch (rest[0]) {
  case "health": {
    const result = await healthCommand(url);
    console.log(result.text);
    process.exitCode = result.exitCode;
    break;
  }
  case undefined:
  case "help":
  case "--help":
    console.log(usage);
    break;
  default:
    console.error(`tailorctl: unknown command "${rest[0]}"\n\n${usage}`);
    process.exitCode = 2;
}
