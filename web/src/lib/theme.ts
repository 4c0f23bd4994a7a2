import { useSyncExternalStore } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'verity-theme';
const listeners = new Set<() => void>();

function read(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

let current: ThemeChoice = read();

/** Applies the stored choice; "system" leaves html[data-theme] unset so prefers-color-scheme decides. */
export function applyTheme(choice: ThemeChoice = current): void {
  current = choice;
  if (choice === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', choice);
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage may be blocked (third-party iframes): the choice lasts for this page only
  }
  for (const listener of listeners) listener();
}

export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const value = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
  return [value, applyTheme];
}

/** Whether the page currently renders dark (explicit choice or system preference). */
export function isDark(): boolean {
  const explicit = document.documentElement.getAttribute('data-theme');
  if (explicit !== null) return explicit === 'dark';
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}
