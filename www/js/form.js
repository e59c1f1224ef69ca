// The parameter form, generated from a topic's schema (Rust owns the limits and the messages).

import { h, replace } from './dom.js';

/**
 * @typedef {import('./types.js').Param} Param
 * @typedef {import('./types.js').Values} Values
 * @typedef {import('./types.js').FileValue} FileValue
 * @typedef {Extract<Param, {type: 'files'}>} FilesParam
 */

/**
 * One field's control: the element that takes the label and focus, anything shown after it, and
 * how to read and set its value.
 * @typedef {{input: HTMLInputElement | HTMLSelectElement, extra?: HTMLElement, get: () => unknown, set: (value: unknown) => void, settled?: () => Promise<void>}} Control
 */

/**
 * @param {import('./types.js').Topic} topic
 * @param {Values} values initial values
 * @param {(values: Values) => void} onChange
 */
export function buildForm(topic, values, onChange) {
  /** @type {Map<string, {control: Control, error: HTMLElement}>} */
  const fields = new Map();
  const read = () => Object.fromEntries([...fields].map(([name, f]) => [name, f.control.get()]));
  const grid = h('div', { class: 'fields' });
  for (const param of topic.params) {
    const id = `param-${param.name}`;
    // `values` come from the URL or a parent page: only their own keys count.
    const control = makeControl(
      param,
      id,
      (Object.hasOwn(values, param.name) ? values[param.name] : undefined) ?? param.default,
      () => onChange(read()),
    );
    const { input } = control;
    const error = h('div', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    const help = param.help ? h('div', { class: 'field-help', id: `${id}-help`, text: param.help }) : null;
    input.setAttribute(
      'aria-describedby',
      [help && `${id}-help`, control.extra?.id, `${id}-error`].filter(Boolean).join(' '),
    );
    fields.set(param.name, { control, error });
    const label = h('label', { for: id, text: param.label });
    grid.append(
      h(
        'div',
        { class: `field field-${param.type}`, dataset: { field: param.name } },
        label,
        input,
        control.extra,
        help,
        error,
      ),
    );
  }
  return {
    element: grid,
    values: read,
    /** Resolves once picked files have been read, so a Run sends their bytes. */
    async settled() {
      await Promise.all([...fields.values()].map((f) => f.control.settled?.()));
    },
    /** @param {Values} next */
    setValues(next) {
      for (const [name, f] of fields) if (Object.hasOwn(next, name)) f.control.set(next[name]);
    },
    /**
     * Shows each error next to its field (and clears the others); returns the messages of errors
     * that name no field.
     * @param {import('./types.js').FieldError[]} errors
     */
    setErrors(errors) {
      for (const f of fields.values()) {
        f.error.textContent = '';
        f.control.input.removeAttribute('aria-invalid');
      }
      /** @type {string[]} */
      const unplaced = [];
      for (const e of errors) {
        const f = fields.get(e.field);
        if (f) {
          f.error.textContent = e.message;
          f.control.input.setAttribute('aria-invalid', 'true');
        } else unplaced.push(e.message);
      }
      return unplaced;
    },
  };
}

/**
 * @param {Param} param
 * @param {string} id
 * @param {unknown} value
 * @param {() => void} changed
 * @returns {Control}
 */
function makeControl(param, id, value, changed) {
  if (param.type === 'files') return filePicker(param, id, changed);
  if (param.type === 'choice') {
    const select = /** @type {HTMLSelectElement} */ (
      h(
        'select',
        { id, name: param.name, onchange: changed },
        ...param.options.map(([v, label]) => h('option', { value: v, text: label })),
      )
    );
    const set = (/** @type {unknown} */ v) => (select.value = String(v));
    set(value);
    return { input: select, get: () => select.value, set };
  }
  if (param.type === 'bool') {
    const box = /** @type {HTMLInputElement} */ (
      h('input', { id, name: param.name, type: 'checkbox', onchange: changed })
    );
    const set = (/** @type {unknown} */ v) => (box.checked = v === true || v === 'true');
    set(value);
    return { input: box, get: () => box.checked, set };
  }
  // Numbers are typed as text so any input reaches Rust's validation and its message.
  const numeric = param.type === 'int' || param.type === 'float';
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      id,
      name: param.name,
      type: 'text',
      inputmode: numeric ? 'decimal' : undefined,
      autocomplete: 'off',
      spellcheck: 'false',
      oninput: changed,
    })
  );
  const set = (/** @type {unknown} */ v) => (input.value = String(v));
  set(value);
  return { input, get: () => input.value, set };
}

/**
 * Files the learner picks: their names and sizes are listed as text, and their bytes are read for
 * the engine. The value is `[{name, size, data}]`; Rust checks the limits and writes the messages.
 * @param {FilesParam} param
 * @param {string} id
 * @param {() => void} changed
 * @returns {Control}
 */
function filePicker(param, id, changed) {
  const input = /** @type {HTMLInputElement} */ (
    h('input', { id, name: param.name, type: 'file', multiple: true, accept: param.accept || undefined })
  );
  const list = h('ul', { class: 'file-list', id: `${id}-list` });
  /** @type {FileValue[]} */
  let files = [];
  let reading = Promise.resolve();
  let picks = 0;
  const show = (/** @type {{name: string, size: number}[]} */ shown) =>
    replace(list, ...shown.map((f) => h('li', { text: `${f.name} (${bytes(f.size)})` })));
  input.addEventListener('change', () => {
    const picked = [...(input.files ?? [])];
    const pick = ++picks;
    show(picked);
    reading = readFiles(picked, param).then((read) => {
      if (pick !== picks) return; // picked again meanwhile: that reading wins
      files = read;
      changed();
    });
  });
  return {
    input,
    extra: list,
    get: () => files,
    /** @param {unknown} value */
    set(value) {
      files = Array.isArray(value) ? value : [];
      // The input can only show files picked in it; the list shows what the form holds.
      if (!files.length) input.value = '';
      show(files);
    },
    settled: () => reading,
  };
}

/**
 * The files as `{name, size, data}`, `data` being the bytes in base64: the engine takes its
 * parameters as JSON, where base64 is a third larger than the bytes and decodes quickly in Rust,
 * while an array of numbers would be about four times larger and slow to parse. Files over the
 * schema's limits are not read at all: their names and sizes are enough for Rust's message.
 * @param {File[]} picked
 * @param {FilesParam} param
 * @returns {Promise<FileValue[]>}
 */
async function readFiles(picked, param) {
  const total = picked.reduce((sum, f) => sum + f.size, 0);
  if (picked.length > param.max_files || total > param.max_bytes)
    return picked.map((f) => ({ name: f.name, size: f.size }));
  return Promise.all(
    picked.map(async (f) => ({ name: f.name, size: f.size, data: await base64(f).catch(() => undefined) })),
  );
}

/** @param {Blob} file @returns {Promise<string>} */
function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result); // data:<type>;base64,<bytes>
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * 1234567 as "1.2 MB", 2345 as "2.3 KB" (decimal units, like the limits Rust states).
 * @param {number} n
 */
function bytes(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return n === 1 ? '1 byte' : `${n} bytes`;
}
