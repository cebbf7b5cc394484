"""The municipality's admin console under /admin: server-rendered, session cookie, CSRF tokens."""
