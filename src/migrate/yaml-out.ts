/**
 * Building the YAML with the `yaml` Document API, so that source comments can sit on the keys
 * and values they were written next to.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, isNode, type Node } from 'yaml';

export interface Commented {
  commentsBefore?: string[];
  comment?: string;
}

/** keepalived comments keep their text; YAML wants a leading space after `#`. */
function asYamlComment(lines: string[]): string {
  return lines.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
}

export class YamlBuilder {
  readonly doc = new Document();

  node(value: unknown): Node {
    return isNode(value) ? value : (this.doc.createNode(value) as Node);
  }
}

/** A YAML mapping filled key by key, in source order. */
export class OutMap {
  readonly node = new YAMLMap<Scalar, Node>();
  private commented = false;

  constructor(private readonly yaml: YamlBuilder) {}

  has(key: string): boolean {
    return this.node.items.some((p) => p.key.value === key);
  }

  get(key: string): Node | undefined {
    return this.node.items.find((p) => p.key.value === key)?.value ?? undefined;
  }

  delete(key: string): void {
    this.node.items = this.node.items.filter((p) => p.key.value !== key);
  }

  get size(): number {
    return this.node.items.length;
  }

  /** Sets (or replaces) `key`; comments from `from` go before the key and after a scalar value. */
  set(key: string, value: unknown, from?: Commented): Node {
    const k = new Scalar(key);
    const v = this.yaml.node(value instanceof OutMap || value instanceof OutSeq ? value.node : value);
    attachComments(k, v, from);
    if (from && ((from.commentsBefore?.length ?? 0) > 0 || from.comment !== undefined)) this.commented = true;
    const existing = this.node.items.findIndex((p) => p.key.value === key);
    const pair = new Pair(k, v);
    if (existing >= 0) this.node.items[existing] = pair as Pair<Scalar, Node>;
    else this.node.items.push(pair as Pair<Scalar, Node>);
    return v;
  }

  /** One line `{ a: 1, b: 2 }` when short and without comments, as the samples write them. */
  compact(maxKeys = 6): this {
    const scalarsOnly = this.node.items.every((p) => p.value instanceof Scalar || (p.value instanceof YAMLMap && p.value.flow));
    if (!this.commented && scalarsOnly && this.node.items.length <= maxKeys) this.node.flow = true;
    return this;
  }
}

export class OutSeq {
  readonly node = new YAMLSeq<Node>();

  constructor(private readonly yaml: YamlBuilder) {}

  get size(): number {
    return this.node.items.length;
  }

  push(value: unknown, from?: Commented): Node {
    const v = this.yaml.node(value instanceof OutMap || value instanceof OutSeq ? value.node : value);
    attachComments(v, v, from);
    this.node.items.push(v);
    return v;
  }
}

function attachComments(before: Node, after: Node, from?: Commented): void {
  if (!from) return;
  const lines = [...(from.commentsBefore ?? [])];
  if (from.comment !== undefined && !(after instanceof Scalar)) lines.push(from.comment);
  if (lines.length > 0) before.commentBefore = asYamlComment(lines);
  if (from.comment !== undefined && after instanceof Scalar) after.comment = asYamlComment([from.comment]);
}
