#!/usr/bin/env node
// Runs the agent from the checkout through tsx; release builds ship a bundle instead.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/agent/main.ts");
process.exitCode = await main(process.argv.slice(2));
