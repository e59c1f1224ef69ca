// A highlight.js grammar (the CDN build ships no types).
declare const grammar: unknown;
export default grammar;
