/**
 * Logical lines -> nested statements. A statement is a keyword, its arguments and, when a `{`
 * follows (on the same line or alone on the next), a block of statements. Comments written
 * alone on lines before a statement, and at the end of its line, ride along for the YAML.
 */
import { MigrateError, type MigrateDiagnostic, type SourcePos } from './errors.js';
import type { LogicalLine, Token } from './keepalived-reader.js';

export interface Statement {
  keyword: Token;
  args: Token[];
  block?: Statement[];
  /** comments on their own lines just before this statement */
  commentsBefore: string[];
  /** the comment at the end of this statement's line */
  comment?: string;
}

export function buildTree(lines: LogicalLine[]): Statement[] {
  const { tree, errors } = buildTreeLenient(lines);
  if (errors.length > 0) throw new MigrateError(errors);
  return tree;
}

/** As buildTree, but hands the errors back (so the reader's and these are reported together). */
export function buildTreeLenient(lines: LogicalLine[]): { tree: Statement[]; errors: MigrateDiagnostic[] } {
  const errors: MigrateDiagnostic[] = [];
  const root: Statement[] = [];
  const stack: { list: Statement[]; opener: SourcePos | null }[] = [{ list: root, opener: null }];
  let pending: string[] = [];

  const current = () => stack[stack.length - 1];
  for (const line of lines) {
    if (line.tokens.length === 0) {
      if (line.comment !== undefined) pending.push(line.comment);
      continue;
    }
    let words: Token[] = [];
    let lastOnLine: Statement | undefined;
    const finish = (): void => {
      if (words.length === 0) return;
      const st: Statement = { keyword: words[0], args: words.slice(1), commentsBefore: pending };
      pending = [];
      current().list.push(st);
      lastOnLine = st;
      words = [];
    };
    for (const tok of line.tokens) {
      if (!tok.quoted && tok.text === '{') {
        finish();
        // `{` alone on a line opens the block of the statement just before it.
        const owner = lastOnLine ?? current().list[current().list.length - 1];
        if (!owner || owner.block) {
          errors.push({ ...tok, message: 'unexpected "{": no keyword before it' });
          stack.push({ list: [], opener: tok });
          continue;
        }
        owner.block = [];
        stack.push({ list: owner.block, opener: tok });
        // A comment after `name {` describes the block's owner.
        lastOnLine = owner;
      } else if (!tok.quoted && tok.text === '}') {
        finish();
        if (stack.length === 1) errors.push({ ...tok, message: 'unexpected "}": no block is open' });
        else stack.pop();
        lastOnLine = undefined;
      } else words.push(tok);
    }
    finish();
    if (line.comment !== undefined) {
      const target = lastOnLine ?? current().list[current().list.length - 1];
      if (target && target.comment === undefined) target.comment = line.comment;
      else pending.push(line.comment);
    }
  }
  for (let i = stack.length - 1; i > 0; i--) {
    const opener = stack[i].opener!;
    errors.push({ ...opener, message: `block opened here is never closed (missing "}")` });
  }
  return { tree: root, errors };
}
