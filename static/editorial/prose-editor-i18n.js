/* The rich-text editor in the admin's language.

   django-prose-editor asks window.gettext (Django's JavaScript catalog, admin:jsi18n) for
   the words of its dialogs, but names its toolbar buttons ("bold", "insert link", "undo")
   and the options of its block menu ("Paragraph", "Heading 2") in English without asking.
   This script passes those words through the same gettext as the editor puts them on the
   page, so tooltips, aria-labels and menu options follow the admin's language. The
   translations are the project's djangojs catalog (locale/zh_Hans/LC_MESSAGES/djangojs.po);
   with English chosen, gettext hands the words back as they are. */
(function () {
  "use strict";
  if (!window.gettext) {
    return;
  }
  var gettext = window.gettext;
  var interpolate = window.interpolate;
  var OPTION = ".prose-menubar__option > *, .prose-menubar__selected > *";

  function translated(text) {
    var heading = /^heading (\d)$/i.exec(text);
    if (heading) {
      return interpolate(gettext("Heading %s"), [heading[1]]);
    }
    return gettext(text);
  }

  function localizeButton(button) {
    ["title", "aria-label"].forEach(function (name) {
      var text = button.getAttribute(name);
      if (text && translated(text) !== text) {
        button.setAttribute(name, translated(text));
      }
    });
  }

  function localizeOption(option) {
    // A menu option is one element holding nothing but its label.
    var text = option.textContent;
    if (option.children.length === 0 && text && translated(text) !== text) {
      option.textContent = translated(text);
    }
  }

  function localize(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) {
      return;
    }
    if (node.matches(".prose-menubar__button")) {
      localizeButton(node);
    }
    if (node.matches(OPTION)) {
      localizeOption(node);
    }
    node.querySelectorAll(".prose-menubar__button").forEach(localizeButton);
    node.querySelectorAll(OPTION).forEach(localizeOption);
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(localize);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
