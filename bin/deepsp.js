#!/usr/bin/env node
// The `deepsp` command: registers tsx so Node 20 can run the TypeScript sources directly, then starts the CLI.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
