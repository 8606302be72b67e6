import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Runs JUnit test classes on the GPU machine, where there is no Maven:
 * {@code java -cp <test classpath>:.gpu/tools GpuTests org.attnkit.backend.cuda.CudaEquivalenceTest ...}.
 * Prints the summary with every failure; exits 1 when a test failed, 3 when none ran.
 */
public final class GpuTests {
    public static void main(String[] args) throws Exception {
        LauncherDiscoveryRequestBuilder b = LauncherDiscoveryRequestBuilder.request();
        for (String name : args) {
            b.selectors(selectClass(Class.forName(name)));
        }
        LauncherDiscoveryRequest request = b.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary);
        PrintWriter out = new PrintWriter(System.out, true);
        summary.getSummary().printTo(out);
        summary.getSummary().printFailuresTo(out, 25);
        long run = summary.getSummary().getTestsSucceededCount() + summary.getSummary().getTestsFailedCount();
        System.exit(summary.getSummary().getTotalFailureCount() > 0 ? 1 : run == 0 ? 3 : 0);
    }
}
