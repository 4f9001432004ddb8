# Varnish in front of the newsroom (docs/deploy/cdn.md), for NEWSROOM_CDN_BACKEND=http-purge.
#
# Readers' pages are kept as long as Django's s-maxage says (NEWSROOM_CDN_MAX_AGE) and dropped
# the moment the newsroom says so: "PURGE <path>" drops one page, "BAN /" with a
# Surrogate-Key header drops every page carrying any of those keys. Staff with a session
# cookie always reach Django. Tested by tests/cdn/test_varnish.py.
vcl 4.1;

backend newsroom {
    .host = "127.0.0.1";
    .port = "8000";
}

# Who may purge: the application servers (their addresses as Varnish sees them).
acl newsroom_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ newsroom_purgers) {
            return (synth(403, "Not allowed"));
        }
        return (purge);
    }
    if (req.method == "BAN") {
        if (client.ip !~ newsroom_purgers) {
            return (synth(403, "Not allowed"));
        }
        if (req.http.Surrogate-Key !~ "^[A-Za-z0-9_ -]+$") {
            return (synth(400, "Surrogate-Key missing or malformed"));
        }
        # "story-12 home" becomes (^|\s)(story-12|home)(\s|$): any page holding one of the keys.
        # Only obj.* is tested, so the ban lurker clears old objects in the background.
        ban("obj.http.Surrogate-Key ~ (^|\s)(" + regsuball(req.http.Surrogate-Key, " +", "|") + ")(\s|$)");
        return (synth(200, "Banned"));
    }
    # Staff (a session cookie, plain or __Secure-) always reach Django; their pages are private.
    if (req.http.Cookie ~ "(^|;\s*)(__Secure-)?sessionid=") {
        return (pass);
    }
    if (req.url ~ "^/(admin|review|i18n)/") {
        return (pass);
    }
    # Readers' pages do not depend on cookies (analytics and the like): cache them all the same.
    unset req.http.Cookie;
}

sub vcl_deliver {
    # The keys are for caches; readers need not download them.
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
    unset resp.http.Surrogate-Control;
    unset resp.http.X-Accel-Expires;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
}
