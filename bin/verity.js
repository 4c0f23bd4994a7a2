#!/usr/bin/env node
// Thin launcher so the `verity` bin works from an installed package (compiled output in dist/).
import '../dist/src/cli/main.js';
