"""Optional sign-in through an OpenID Connect identity provider (off unless configured):
``settings`` from the environment, ``provider`` for the protocol, ``pages`` for the routes."""
