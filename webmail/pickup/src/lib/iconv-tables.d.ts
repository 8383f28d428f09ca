/** iconv-lite's single-byte tables (plain data modules, CommonJS): read by charset.ts. */
declare module 'iconv-lite/encodings/sbcs-data.js' {
  const data: Record<string, string | { type: string; chars: string }>;
  export default data;
}
declare module 'iconv-lite/encodings/sbcs-data-generated.js' {
  const data: Record<string, string | { type: string; chars: string }>;
  export default data;
}
