// The small part of highlight.js the code view uses (the CDN build ships no types).
declare const hljs: {
  registerLanguage(name: string, language: unknown): void;
  highlightElement(element: HTMLElement): void;
};
export default hljs;
