// The parameter form, generated from a topic's schema (Rust owns the limits and the messages).

import { h } from './dom.js';

/**
 * @param {any} topic catalog entry
 * @param {Record<string, any>} values initial values
 * @param {(values: Record<string, any>) => void} onChange
 */
export function buildForm(topic, values, onChange) {
  /** @type {Map<string, {input: HTMLInputElement | HTMLSelectElement, error: HTMLElement, param: any}>} */
  const fields = new Map();
  const read = () => Object.fromEntries([...fields].map(([name, f]) => [name, valueOf(f)]));
  const grid = h('div', { class: 'fields' });
  for (const param of topic.params) {
    const id = `param-${param.name}`;
    const input = control(param, id, values[param.name] ?? param.default);
    const error = h('div', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    const help = param.help ? h('div', { class: 'field-help', id: `${id}-help`, text: param.help }) : null;
    input.setAttribute('aria-describedby', [help && `${id}-help`, `${id}-error`].filter(Boolean).join(' '));
    input.addEventListener(param.type === 'choice' || param.type === 'bool' ? 'change' : 'input', () => onChange(read()));
    fields.set(param.name, { input, error, param });
    const label = h('label', { for: id, text: param.label });
    grid.append(h('div', { class: `field field-${param.type}`, dataset: { field: param.name } }, label, input, help, error));
  }
  return {
    element: grid,
    values: read,
    /** @param {Record<string, any>} next */
    setValues(next) {
      for (const [name, f] of fields) if (name in next) setValue(f, next[name]);
    },
    /** Shows each error next to its field (and clears the others). */
    setErrors(errors) {
      for (const f of fields.values()) {
        f.error.textContent = '';
        f.input.removeAttribute('aria-invalid');
      }
      const unplaced = [];
      for (const e of errors) {
        const f = fields.get(e.field);
        if (f) {
          f.error.textContent = e.message;
          f.input.setAttribute('aria-invalid', 'true');
        } else unplaced.push(e.message);
      }
      return unplaced;
    },
  };
}

function control(param, id, value) {
  if (param.type === 'choice') {
    const select = /** @type {HTMLSelectElement} */ (h('select', { id, name: param.name }, ...param.options.map(([v, label]) => h('option', { value: v, text: label }))));
    select.value = String(value);
    return select;
  }
  if (param.type === 'bool') {
    const box = /** @type {HTMLInputElement} */ (h('input', { id, name: param.name, type: 'checkbox' }));
    box.checked = value === true || value === 'true';
    return box;
  }
  // Numbers are typed as text so any input reaches Rust's validation and its message.
  const numeric = param.type === 'int' || param.type === 'float';
  const input = /** @type {HTMLInputElement} */ (
    h('input', { id, name: param.name, type: 'text', inputmode: numeric ? 'decimal' : undefined, autocomplete: 'off', spellcheck: 'false' })
  );
  input.value = String(value);
  return input;
}

function valueOf({ input, param }) {
  if (param.type === 'bool') return /** @type {HTMLInputElement} */ (input).checked;
  return input.value;
}

function setValue({ input, param }, value) {
  if (param.type === 'bool') /** @type {HTMLInputElement} */ (input).checked = value === true || value === 'true';
  else input.value = String(value);
}
