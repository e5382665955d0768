// `tunnelhound config defaults`: the full default config as YAML, each key preceded by its
// documentation from the schema (schema.ts `.describe()`), so the printed file and the
// validator never disagree. The output is itself a valid config (tested).

import { Document, isMap, isScalar, isSeq, Node } from 'yaml';
import type { z } from 'zod';
import { DEFAULT_CONFIG } from './defaults';
import { CONFIG_SCHEMA } from './schema';

/** Comment lines (with their "# " and indentation) stay within this many columns. */
const COMMENT_WIDTH = 92;
const INDENT = 2;
const LINE_WIDTH = 100;

type Def = {
  type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; valueType?: z.ZodType;
};

function defOf(s: z.ZodType): Def {
  return (s as unknown as { def: Def }).def;
}

function unwrap(s: z.ZodType): z.ZodType {
  while (defOf(s).type === 'optional') s = defOf(s).innerType!;
  return s;
}

function wrap(text: string, depth = 0): string {
  const width = COMMENT_WIDTH - 2 - depth * INDENT;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  // yaml writes "#" + each line: the leading space makes it "# text".
  return lines.map((l) => ` ${l}`).join('\n');
}

/** Lists of scalars stay on one line, and so does each small mapping in a list (services). */
function flowShortLists(node: Node | null): void {
  if (isSeq(node)) {
    if (node.items.every((it) => isScalar(it))) node.flow = true;
    for (const it of node.items) {
      if (isMap(it)) it.flow = true;
    }
  } else if (isMap(node)) {
    for (const pair of node.items) flowShortLists(pair.value as Node);
  }
}

/** Put each key's description above it, walking the document and the schema together. */
function annotate(node: Node | null, schema: z.ZodType, depth: number): void {
  const s = unwrap(schema);
  const def = defOf(s);
  if (isMap(node) && def.type === 'record') {
    for (const pair of node.items) annotate(pair.value as Node, def.valueType!, depth + 1);
  }
  if (!isMap(node) || def.type !== 'object' || def.shape === undefined) return;
  node.items.forEach((pair, i) => {
    const key = pair.key as Node & { commentBefore?: string; spaceBefore?: boolean };
    const child = def.shape![String((key as { value?: unknown }).value)];
    if (child === undefined) return;
    const doc = child.description ?? unwrap(child).description;
    if (doc !== undefined && doc !== '') key.commentBefore = wrap(doc, depth);
    if (depth === 0 && i > 0) key.spaceBefore = true;
    annotate(pair.value as Node, child, depth + 1);
  });
}

export function defaultsYaml(): string {
  const doc = new Document(DEFAULT_CONFIG);
  flowShortLists(doc.contents);
  annotate(doc.contents, CONFIG_SCHEMA, 0);
  doc.commentBefore = wrap('tunnelhound configuration: every key with its default value ' +
    '(`tunnelhound config defaults`). A file needs only the keys it changes: mappings are ' +
    'merged over these defaults key by key, lists replace the default list. ' +
    'Check a file with `tunnelhound config check FILE`.');
  return doc.toString({ lineWidth: LINE_WIDTH });
}
