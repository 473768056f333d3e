"""Server-rendered pages for people, roles, vetting, training and one's own profile.

Views parse input, call kt1.accounts.services through kt1.core.web.call_service and read through
kt1.accounts.selectors. A page whose permission the person lacks answers 404 (like the API); an
action on an object the person can see but may not change answers 403 (kt1.core.errors)."""
