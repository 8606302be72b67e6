package org.attnkit.ops.arith;

/** Scalar reference of {@link Div}, in double. */
final class DivRef extends BinaryRef {
    @Override
    double value(double a, double b) {
        return a / b;
    }

    @Override
    double partialA(double a, double b) {
        return 1 / b;
    }

    @Override
    double partialB(double a, double b) {
        return -a / (b * b);
    }
}
