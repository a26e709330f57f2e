#!/usr/bin/env node
// Runs the control plane from the checkout through tsx; release builds ship a bundle instead.
import { register } from "tsx/esm/api";

register();
await import("../src/nodeward/main.ts");
