// 推荐阅读 panel on the story's change page: "Pick" adds a suggestion as a new row of the
// editors' picks (the inline above), with its reason; saving the form keeps it as usual.
"use strict";
(function () {
    function newestRow(group) {
        const rows = group.querySelectorAll(".dynamic-recommendations:not(.empty-form)");
        return rows.length ? rows[rows.length - 1] : null;
    }

    function pick(button) {
        const group = document.getElementById("recommendations-group");
        const add = group && group.querySelector(".add-row a");
        if (!add) {
            return;
        }
        add.click();
        const row = newestRow(group);
        if (!row) {
            return;
        }
        const select = row.querySelector('select[name$="-target"]');
        select.append(new Option(button.dataset.label, button.dataset.target, true, true));
        if (window.django && window.django.jQuery) {
            window.django.jQuery(select).trigger("change");
        }
        const reason = row.querySelector('input[name$="-reason"]');
        if (reason) {
            reason.value = button.dataset.reason;
        }
        const position = row.querySelector('input[name$="-position"]');
        if (position) {
            position.value = group.querySelectorAll(".dynamic-recommendations:not(.empty-form)").length - 1;
        }
        button.disabled = true;
        button.textContent = button.dataset.added;
    }

    document.addEventListener("click", function (event) {
        const button = event.target.closest && event.target.closest("button.rec-pick");
        if (button) {
            pick(button);
        }
    });
})();
