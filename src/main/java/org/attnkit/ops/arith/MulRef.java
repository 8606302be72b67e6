package org.attnkit.ops.arith;

/** Scalar reference of {@link Mul}, in double. */
final class MulRef extends BinaryRef {
    @Override
    double value(double a, double b) {
        return a * b;
    }

    @Override
    double partialA(double a, double b) {
        return b;
    }

    @Override
    double partialB(double a, double b) {
        return a;
    }
}
