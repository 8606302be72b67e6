package org.attnkit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ScopeStackTest {
    @Test
    void scopesNestAndClosingOneMakesItsParentCurrentAgain() {
        ScopeStack<String> stack = new ScopeStack<>();
        assertNull(stack.current());
        assertNull(stack.push("outer"));
        assertEquals("outer", stack.push("inner"));
        assertSame("inner", stack.current());
        stack.pop("inner", "outer");
        assertSame("outer", stack.current());
        stack.pop("outer", null);
        assertNull(stack.current());
    }

    @Test
    void closingAScopeThatIsNotCurrentLeavesTheCurrentOne() {
        ScopeStack<String> stack = new ScopeStack<>();
        stack.push("outer");
        stack.push("inner");
        stack.pop("outer", null); // closed out of order: the inner scope stays current
        assertSame("inner", stack.current());
    }

    @Test
    void eachThreadHasItsOwnStack() throws InterruptedException {
        ScopeStack<String> stack = new ScopeStack<>();
        stack.push("main");
        AtomicReference<String> seen = new AtomicReference<>("unset");
        Thread t = new Thread(() -> seen.set(stack.current()));
        t.start();
        t.join();
        assertNull(seen.get());
        assertSame("main", stack.current());
        stack.pop("main", null);
    }
}
