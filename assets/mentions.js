// @mentions in the discussion's composer: <textarea data-mentions="/documents/1/discussion/people/">.
// Typing "@" and letters lists colleagues who may see the document (the server
// decides who); arrows move, Enter or Tab chooses, Escape closes.
let listCount = 0;

function tokenBefore(textarea) {
  const upto = textarea.value.slice(0, textarea.selectionStart);
  const match = upto.match(/(^|[\s(])@([\p{L}\p{N}_.-]{0,60})$/u);
  return match ? { query: match[2], start: upto.length - match[2].length - 1 } : null;
}

function closeList(textarea) {
  const list = textarea._mentionList;
  if (list) list.remove();
  textarea._mentionList = null;
  textarea.setAttribute("aria-expanded", "false");
  textarea.removeAttribute("aria-activedescendant");
}

function choose(textarea, username) {
  const token = tokenBefore(textarea);
  if (!token) return closeList(textarea);
  const before = textarea.value.slice(0, token.start);
  const after = textarea.value.slice(textarea.selectionStart);
  const inserted = `@${username} `;
  textarea.value = before + inserted + after;
  const caret = before.length + inserted.length;
  textarea.setSelectionRange(caret, caret);
  closeList(textarea);
  textarea.focus();
}

function mark(textarea, index) {
  const list = textarea._mentionList;
  if (!list) return;
  const options = [...list.querySelectorAll("[role=option]")];
  options.forEach((el, i) => {
    el.setAttribute("aria-selected", i === index ? "true" : "false");
    el.classList.toggle("active", i === index);
  });
  list._index = index;
  if (options[index]) textarea.setAttribute("aria-activedescendant", options[index].id);
}

function showList(textarea, people) {
  closeList(textarea);
  if (!people.length) return;
  listCount += 1;
  const list = document.createElement("ul");
  list.id = `mention-list-${listCount}`;
  list.className = "list-group mention-list shadow-sm";
  list.setAttribute("role", "listbox");
  people.forEach((person, i) => {
    const item = document.createElement("li");
    item.id = `${list.id}-${i}`;
    item.className = "list-group-item list-group-item-action";
    item.setAttribute("role", "option");
    item.dataset.username = person.username;
    const name = document.createElement("span");
    name.textContent = person.name;
    const login = document.createElement("span");
    login.className = "text-body-secondary small ms-2";
    login.textContent = `@${person.username}`;
    item.append(name, login);
    item.addEventListener("mousedown", (event) => {
      event.preventDefault();
      choose(textarea, person.username);
    });
    list.append(item);
  });
  textarea.insertAdjacentElement("afterend", list);
  textarea._mentionList = list;
  textarea.setAttribute("aria-controls", list.id);
  textarea.setAttribute("aria-expanded", "true");
  mark(textarea, 0);
}

document.addEventListener("input", (event) => {
  const textarea = event.target.closest && event.target.closest("textarea[data-mentions]");
  if (!textarea) return;
  textarea.setAttribute("aria-autocomplete", "list");
  const token = tokenBefore(textarea);
  clearTimeout(textarea._mentionTimer);
  if (!token) return closeList(textarea);
  textarea._mentionTimer = setTimeout(async () => {
    const url = `${textarea.dataset.mentions}?q=${encodeURIComponent(token.query)}`;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return closeList(textarea);
      const body = await response.json();
      if (tokenBefore(textarea)) showList(textarea, body.people || []);
    } catch (_error) {
      closeList(textarea);
    }
  }, 200);
});

document.addEventListener("keydown", (event) => {
  const textarea = event.target.closest && event.target.closest("textarea[data-mentions]");
  if (!textarea || !textarea._mentionList) return;
  const list = textarea._mentionList;
  const options = list.querySelectorAll("[role=option]");
  const index = list._index || 0;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    mark(textarea, (index + step + options.length) % options.length);
  } else if (event.key === "Enter" || event.key === "Tab") {
    if (!options[index]) return;
    event.preventDefault();
    choose(textarea, options[index].dataset.username);
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeList(textarea);
  }
});

document.addEventListener("focusout", (event) => {
  const textarea = event.target.closest && event.target.closest("textarea[data-mentions]");
  if (textarea) setTimeout(() => closeList(textarea), 150);
});
