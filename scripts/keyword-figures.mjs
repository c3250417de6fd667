#!/usr/bin/env node
// The figure "keepalived keywords supported / refused / accepted-and-ignored", from the same
// tables the translator runs (src/migrate/keyword-tables.ts). Needs `npm run build:ts` first.
import { keywordEntries } from '../dist/src/migrate/keyword-tables.js';

const entries = keywordEntries();
const count = (fate) => entries.filter((e) => e.fate === fate).length;
console.log(`${entries.length} keywords (per block): ${count('translated')} supported, ${count('refused')} refused, ${count('ignored')} accepted and ignored`);
