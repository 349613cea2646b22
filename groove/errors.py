"""The one error class of the groove maths."""


class GrooveError(ValueError):
    """A groove was built or used with a value outside what is allowed.

    Subclasses ``ValueError`` so callers that validate input generically keep
    working; the message always names the parameter, the bad value, what is
    allowed and how to fix it.
    """
