#!/usr/bin/env node
// Validate Grafana dashboard JSON files against the schema that @grafana/schema (pinned in package.json to the Grafana
// release the dashboards target) ships as TypeScript types. Works offline once `npm ci` has run in this folder.
//
//   node validate.mjs FILE.json [FILE.json ...]          exit 0 when every file is valid, 1 otherwise
//   node validate.mjs --emit-schema OUT.json             write the generated dashboard JSON schema (for inspection)
//
// What is checked, with `additionalProperties: false` everywhere (an unknown or misspelt key is an error):
//   * the dashboard against the `Dashboard` interface of raw/dashboard/x/dashboard_types.gen.d.ts;
//   * each panel's `options` and `fieldConfig.defaults.custom` against the `Options` / `FieldConfig` interfaces of that
//     panel plugin's panelcfg types (raw/composable/<plugin>/panelcfg/x/*_types.gen.d.ts);
//   * a panel type without a panelcfg schema (and not `row`) is an error, so a typo in `type` cannot slip through.
import { createRequire } from "node:module";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGenerator } from "ts-json-schema-generator";

const require = createRequire(import.meta.url);
const Ajv = require("ajv");

const here = dirname(fileURLToPath(import.meta.url));
const schemaRoot = join(here, "node_modules", "@grafana", "schema", "dist", "esm", "raw");
const tsconfig = join(here, "tsconfig.json");

function generate(path, type) {
  const config = { path, tsconfig, type, skipTypeCheck: true, additionalProperties: false, expose: "all" };
  return createGenerator(config).createSchema(type);
}

function panelCfgFile(plugin) {
  const dir = join(schemaRoot, "composable", plugin, "panelcfg", "x");
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((name) => name.endsWith("_types.gen.d.ts"));
  return file ? join(dir, file) : null;
}

function exportsInterface(file, name) {
  return new RegExp(`^export interface ${name}\\b`, "m").test(readFileSync(file, "utf8"));
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map();

function validator(key, make) {
  if (!validators.has(key)) validators.set(key, make());
  return validators.get(key);
}

function dashboardValidator() {
  return validator("dashboard", () =>
    ajv.compile(generate(join(schemaRoot, "dashboard", "x", "dashboard_types.gen.d.ts"), "Dashboard")),
  );
}

function panelValidators(plugin) {
  return validator(`panel:${plugin}`, () => {
    const file = panelCfgFile(plugin);
    if (file === null) return null;
    const result = { options: null, custom: null };
    if (exportsInterface(file, "Options")) result.options = ajv.compile(generate(file, "Options"));
    if (exportsInterface(file, "FieldConfig")) result.custom = ajv.compile(generate(file, "FieldConfig"));
    return result;
  });
}

function describe(errors) {
  return (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`);
}

function panelsOf(dashboard) {
  const out = [];
  for (const panel of dashboard.panels ?? []) {
    out.push(panel);
    for (const inner of panel.panels ?? []) out.push(inner);
  }
  return out;
}

function validateFile(file) {
  const problems = [];
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const checkDashboard = dashboardValidator();
  if (!checkDashboard(doc)) problems.push(...describe(checkDashboard.errors).map((m) => `dashboard: ${m}`));
  for (const panel of panelsOf(doc)) {
    const where = `panel ${panel.id} "${panel.title}" (${panel.type})`;
    if (panel.type === "row") continue;
    const checks = panelValidators(panel.type);
    if (checks === null) {
      problems.push(`${where}: no panelcfg schema for plugin type "${panel.type}" in @grafana/schema`);
      continue;
    }
    if (checks.options && !checks.options(panel.options ?? {})) {
      problems.push(...describe(checks.options.errors).map((m) => `${where} options: ${m}`));
    }
    const custom = panel.fieldConfig?.defaults?.custom;
    if (checks.custom && custom !== undefined && !checks.custom(custom)) {
      problems.push(...describe(checks.custom.errors).map((m) => `${where} fieldConfig.defaults.custom: ${m}`));
    }
  }
  return problems;
}

const args = process.argv.slice(2);
if (args[0] === "--emit-schema") {
  const schema = generate(join(schemaRoot, "dashboard", "x", "dashboard_types.gen.d.ts"), "Dashboard");
  writeFileSync(args[1], JSON.stringify(schema, null, 2) + "\n");
  process.exit(0);
}
if (args.length === 0) {
  console.error("usage: node validate.mjs FILE.json [FILE.json ...] | --emit-schema OUT.json");
  process.exit(2);
}
const version = JSON.parse(readFileSync(join(here, "node_modules", "@grafana", "schema", "package.json"), "utf8")).version;
let failed = false;
for (const file of args) {
  const problems = validateFile(file);
  if (problems.length === 0) {
    console.log(`ok: ${file} (@grafana/schema ${version})`);
  } else {
    failed = true;
    console.log(`INVALID: ${file} (@grafana/schema ${version})`);
    for (const p of problems) console.log(`  ${p}`);
  }
}
process.exit(failed ? 1 : 0);
