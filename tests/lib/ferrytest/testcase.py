"""`ServerTestCase`: unittest base class whose tests start servers with `self.use(...)`; everything
entered that way is stopped when the test ends, also on failure. Provides one PKI per class."""

import contextlib
import unittest

from .pki import make_pki
from .util import TempDir


class ServerTestCase(unittest.TestCase):
    _class_tmp = None
    _pki = None

    @classmethod
    def tearDownClass(cls):
        if cls._class_tmp:
            cls._class_tmp.cleanup()
            cls._class_tmp = None
            cls._pki = None

    @classmethod
    def pki(cls):
        """A CA + server certificate shared by the tests of this class (made once, it is slow-ish)."""
        if cls._pki is None:
            cls._class_tmp = TempDir("ferrytest-pki-")
            cls._pki = make_pki(cls._class_tmp.path)
        return cls._pki

    def setUp(self):
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        self._stack = stack
        self.tmp = self.use(TempDir())

    def use(self, context_manager):
        """Enters `context_manager` (a server, a temp dir...) and exits it when the test ends."""
        return self._stack.enter_context(context_manager)
