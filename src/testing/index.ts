/**
 * Test data helpers for users' own tests: partitions written from and compared to markdown tables,
 * with DuckDB. See docs/local-testing.md.
 */
export {
  parseMarkdownTable,
  formatMarkdownTable,
  parseColumnType,
  MarkdownTableError,
  type CellValue,
  type ColumnType,
  type DataColumn,
  type DataTable,
  type DataTableInput,
  type FormatOptions,
} from "./markdown-table";
export {
  writePartition,
  readPartition,
  type PartitionFormat,
  type ReadPartitionOptions,
  type WritePartitionOptions,
} from "./partition-io";
export {
  expectPartition,
  diffTables,
  type CompareOptions,
  type ExpectPartitionOptions,
} from "./expect-partition";
export { inputPartition, writeInput } from "./local";
