#!/usr/bin/env node
// A stable bin entry that exists before the build, so npm links it on install (workspaces included).
require("../dist/cli.js");
