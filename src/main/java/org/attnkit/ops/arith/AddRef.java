package org.attnkit.ops.arith;

/** Scalar reference of {@link Add}, in double. */
final class AddRef extends BinaryRef {
    @Override
    double value(double a, double b) {
        return a + b;
    }

    @Override
    double partialA(double a, double b) {
        return 1;
    }

    @Override
    double partialB(double a, double b) {
        return 1;
    }
}
