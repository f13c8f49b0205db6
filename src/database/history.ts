/**
 * History that is dropped after a retention period, as the owners of its tables declare it:
 * one DELETE per table whose `$1` is the cut-off time and which returns a row per deleted
 * row. The relay's recovery round runs them in order (src/history-tables.ts lists them), so
 * no module needs SQL on another module's tables to keep them small.
 */
export interface HistoryTable {
  /** What is dropped, for logs ("webhook delivery log"). */
  what: string;
  /** `DELETE … WHERE <older than $1> RETURNING 1`. */
  purge: string;
}

/** The injection token of the ordered list of history tables. */
export const HISTORY_TABLES = Symbol('HISTORY_TABLES');
