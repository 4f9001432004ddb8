/* The story editor keeps a copy of unsaved work in this browser, and offers it back.

   Every few seconds after a change (and when the page is left) the story form's fields are
   written to localStorage under the story's id and the version the edit started from
   (the form's base_version, which editorial/editing.py checks on save). When the change page
   opens and a copy differs from what the form shows:

   - the copy started from the version on the page: the desk is offered 恢复未保存的内容
     (restore) or 放弃 (discard); nothing is put in the form without that click;
   - the story was saved again since (its version moved on): the copy is never put in the
     form. The banner says who saved it, and shows the copy's fields read-only, to be copied
     by hand.

   A copy equal to the form is dropped; so is a copy sent with Save once the version on the
   page is the one this user saved. The rich-text body is a textarea that django-prose-editor
   keeps in step with its editor (an "input" event on each change); a restored body is given
   to the editor itself. The words are in the page (templates/editorial/autosave.html). */
(function () {
  "use strict";

  var PREFIX = "newsroom:autosave:";
  var EVERY_MS = 3000;
  var KEEP_DAYS = 14;
  var editors = typeof WeakMap === "function" ? new WeakMap() : null;

  // The rich-text editor announces itself when ready; this script runs before it.
  document.addEventListener("prose-editor:ready", function (event) {
    if (editors && event.detail && event.detail.textarea) {
      editors.set(event.detail.textarea, event.detail.editor);
    }
  });

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // private mode, or storage turned off: no autosave
    }
  }

  function editorOf(textarea) {
    var editor = editors && editors.get(textarea);
    if (editor) {
      return editor;
    }
    var wrapper = textarea.closest(".prose-editor");
    var view = wrapper && wrapper.querySelector(".ProseMirror");
    return view && view.editor ? view.editor : null;
  }

  function kept(element) {
    if (!element.name || element.disabled || element.name.indexOf("__prefix__") !== -1) {
      return false;
    }
    var type = (element.type || "").toLowerCase();
    if (["hidden", "file", "submit", "button", "reset", "image", "password"].indexOf(type) !== -1) {
      return false;
    }
    return element.name !== "csrfmiddlewaretoken";
  }

  function valueOf(element) {
    var type = (element.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") {
      return element.checked ? "on" : "";
    }
    if (element.tagName === "SELECT" && element.multiple) {
      return Array.prototype.filter.call(element.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; }).join("\n");
    }
    return element.value;
  }

  function fieldsOf(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (kept(element)) {
        fields[element.name] = valueOf(element);
      }
    });
    return fields;
  }

  function differing(copy, loaded) {
    return Object.keys(copy.fields).filter(function (name) {
      return name in loaded && copy.fields[name] !== loaded[name];
    });
  }

  function labelOf(form, name) {
    var element = form.elements[name];
    var label = element && element.id && form.querySelector('label[for="' + element.id + '"]');
    return label ? label.textContent.replace(/[:：]\s*$/, "").trim() : name;
  }

  function plainText(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    doc.querySelectorAll("p, li, h2, h3, h4, blockquote, br").forEach(function (node) {
      node.append("\n");
    });
    return doc.body.textContent.replace(/\n{3,}/g, "\n\n").trim();
  }

  function put(form, name, value) {
    var element = form.elements[name];
    if (!element || !kept(element)) {
      return false;
    }
    var type = (element.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") {
      element.checked = value === "on";
    } else if (element.tagName === "SELECT") {
      var wanted = value.split("\n");
      var found = Array.prototype.some.call(element.options, function (o) { return wanted.indexOf(o.value) !== -1; });
      if (!found && value !== "") {
        return false; // an autocomplete picker only has its current choice: left as it is
      }
      Array.prototype.forEach.call(element.options, function (o) { o.selected = wanted.indexOf(o.value) !== -1; });
    } else if (element.tagName === "TEXTAREA" && element.closest(".prose-editor")) {
      var editor = editorOf(element);
      element.value = value;
      if (editor) {
        editor.commands.setContent(value, { emitUpdate: true });
      }
    } else {
      element.value = value;
    }
    element.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function formatTime(box, millis) {
    try {
      return new Intl.DateTimeFormat(box.dataset.language || undefined, {
        timeZone: box.dataset.timeZone || undefined,
        month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
      }).format(new Date(millis));
    } catch (error) {
      return new Date(millis).toLocaleString();
    }
  }

  function showTime(element, box, millis) {
    element.querySelectorAll(".autosave-time").forEach(function (time) {
      time.textContent = formatTime(box, millis);
      time.setAttribute("datetime", new Date(millis).toISOString());
    });
  }

  function start() {
    var box = document.getElementById("story-autosave");
    var form = box && document.getElementById("article_form");
    var store = storage();
    if (!box || !form || !store || !form.elements.base_version) {
      return;
    }
    var story = box.dataset.story;
    var version = parseInt(box.dataset.version, 10);
    var base = parseInt(form.elements.base_version.value || box.dataset.version, 10);
    var storyPrefix = PREFIX + story + ":";
    var key = storyPrefix + base + ":" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
    var loaded = fieldsOf(form);
    var dirty = false;
    var sending = false;
    var status = box.querySelector(".autosave-status");
    // A save sent back with errors: what the form holds is not saved yet, so it is kept as it is.
    var unsavedOnPage = !!form.querySelector(".errornote, .errorlist");

    function copies() {
      var found = [];
      for (var i = 0; i < store.length; i++) {
        var name = store.key(i);
        if (name && name.indexOf(PREFIX) === 0 && name !== key) {
          try {
            found.push({ key: name, copy: JSON.parse(store.getItem(name)) });
          } catch (error) {
            found.push({ key: name, copy: null });
          }
        }
      }
      return found;
    }

    function write(submitted) {
      var copy = { story: story, base: base, savedAt: Date.now(), user: box.dataset.user, submitted: !!submitted, fields: fieldsOf(form) };
      if (!differing(copy, loaded).length && !submitted && !unsavedOnPage) {
        store.removeItem(key); // back to what was loaded: nothing unsaved
      } else {
        try {
          store.setItem(key, JSON.stringify(copy));
        } catch (error) {
          return; // storage full: the form itself is untouched
        }
        status.hidden = false;
        showTime(status, box, copy.savedAt);
      }
      dirty = false;
    }

    // Old or unreadable copies go; a copy equal to the form, or a save that went through, too.
    var offered = null;
    var tooOld = Date.now() - KEEP_DAYS * 86400000;
    copies().forEach(function (entry) {
      var copy = entry.copy;
      if (!copy || !copy.fields || copy.savedAt < tooOld) {
        store.removeItem(entry.key);
        return;
      }
      if (String(copy.story) !== story) {
        return;
      }
      var mine = copy.submitted && copy.base < version && box.dataset.savedBy === String(copy.user);
      if (mine || !differing(copy, loaded).length) {
        store.removeItem(entry.key);
      } else if (!offered || copy.savedAt > offered.copy.savedAt) {
        offered = entry;
      }
    });

    function forget() {
      // The offered copy and any older ones of this story are done with.
      copies().forEach(function (entry) {
        if (entry.copy && String(entry.copy.story) === story && entry.copy.savedAt <= offered.copy.savedAt) {
          store.removeItem(entry.key);
        }
      });
    }

    if (offered && offered.copy.base === version) {
      var offer = box.querySelector(".autosave-offer");
      showTime(offer, box, offered.copy.savedAt);
      offer.hidden = false;
      offer.querySelector(".autosave-restore").addEventListener("click", function () {
        Object.keys(offered.copy.fields).forEach(function (name) {
          if (offered.copy.fields[name] !== valueOf(form.elements[name] || {})) {
            put(form, name, offered.copy.fields[name]);
          }
        });
        forget();
        offer.hidden = true;
        write(false);
      });
      offer.querySelector(".autosave-discard").addEventListener("click", function () {
        forget();
        offer.hidden = true;
      });
    } else if (offered) {
      var stale = box.querySelector(".autosave-stale");
      showTime(stale, box, offered.copy.savedAt);
      stale.querySelector(".autosave-base").textContent = offered.copy.base;
      stale.hidden = false;
      stale.querySelector(".autosave-show").addEventListener("click", function () {
        var panel = stale.querySelector(".autosave-copy");
        var list = panel.querySelector("dl");
        list.textContent = "";
        differing(offered.copy, loaded).forEach(function (name) {
          var term = document.createElement("dt");
          term.textContent = labelOf(form, name);
          var text = document.createElement("textarea");
          var element = form.elements[name];
          var value = offered.copy.fields[name];
          text.readOnly = true;
          text.rows = 3;
          text.className = "vLargeTextField";
          text.value = element && element.closest && element.closest(".prose-editor") ? plainText(value) : value;
          var detail = document.createElement("dd");
          detail.append(text);
          list.append(term, detail);
        });
        panel.hidden = false;
      });
      stale.querySelector(".autosave-discard").addEventListener("click", function () {
        forget();
        stale.hidden = true;
      });
    }

    if (unsavedOnPage) {
      write(false);
    }
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    window.setInterval(function () {
      if (dirty && !sending) {
        write(false);
      }
    }, EVERY_MS);
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (button && button.formAction && button.getAttribute("formaction")) {
        return; // a comparison opened from the form, not a save
      }
      sending = true;
      write(true);
    });
    window.addEventListener("pagehide", function () {
      if (dirty && !sending) {
        write(false);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
