package org.attnkit.testing;

import java.util.ArrayList;
import java.util.List;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.loss.CrossEntropy;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.ops.mae.Membership;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * A forward and backward pass through the SIMD kernels at shapes that split into many tasks; its
 * fingerprint (a hash of every output and gradient bit) must not depend on the thread count. The
 * {@code main} prints it for a JVM started with another {@code -Dattnkit.threads}.
 */
public final class DeterminismWorkload {
    private DeterminismWorkload() {
    }

    public static void main(String[] args) {
        System.out.println(fingerprint());
    }

    public static String fingerprint() {
        Tensor x = Tensor.randn(1, 3, 200, 96).requiresGrad(true);
        Tensor w = Tensor.randn(2, 6, 15).requiresGrad(true);
        Tensor wq = Tensor.randn(3, 6 * 7, 96).requiresGrad(true);
        Tensor wl = Tensor.randn(4, 96, 96).requiresGrad(true);
        Tensor gamma = Tensor.randn(5, 96).requiresGrad(true);
        Tensor g1 = Tensor.randn(6, 16, 96).requiresGrad(true);
        Tensor g2 = Tensor.randn(7, 6, 16).requiresGrad(true);
        Tensor head = Tensor.randn(8, 10, 96).requiresGrad(true);
        Tensor w0 = Tensor.randn(9, 4, 7).requiresGrad(true);
        Tensor bias0 = Tensor.randn(10, 96).requiresGrad(true);

        // one LightConv on the shared (head-kernel) weights, one with a mask per position
        Tensor a0 = LightConv.apply(x, w0, bias0, LightConv.Options.causal(7));
        Tensor a = LightConv.apply(a0, w, null, LightConv.Options.centered(15)
                .withDropConnect(new DropConnect(0.2, 11, 3, DropConnect.Scope.POSITION)));
        Tensor b = DynamicConv.apply(a, null, wq, null, 6, DynamicConv.Options.causal(7));
        Tensor q = Linear.apply(b, wl, null);
        Tensor o = Attention.apply(q, q, b, 6, true, null);
        Tensor gate = MaeGate.apply(x, g1, null, g2, null, false);
        Tensor m = HeadMixture.apply(o, gate, Membership.dropOne(6));
        Tensor n = LayerNorm.apply(m, gamma, null);
        Tensor logits = Softmax.apply(Linear.apply(n, head, null), -1).reshape(-1, 10);
        int[] targets = new int[logits.dim(0)];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (i * 7) % 10;
        }
        Tensor loss = CrossEntropy.apply(logits, targets);
        loss.backward();

        List<Tensor> all = new ArrayList<>(List.of(loss, n, x.grad(), w0.grad(), bias0.grad(), w.grad(), wq.grad(), wl.grad(), gamma.grad(),
                g1.grad(), g2.grad(), head.grad()));
        long h = 1125899906842597L;
        for (Tensor t : all) {
            for (float v : t.toArray()) {
                h = 31 * h + Float.floatToRawIntBits(v);
            }
        }
        return Long.toHexString(h) + " loss=" + loss.item();
    }
}
