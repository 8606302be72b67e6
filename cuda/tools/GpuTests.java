import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Runs JUnit test classes on the GPU machine, where there is no Maven:
 * {@code java -cp <test classpath>:.gpu/tools GpuTests org.attnkit.backend.cuda.CudaEquivalenceTest ...}.
 * Prints one line per test (outcome, milliseconds, name), then the summary with every failure; exits 1 when a
 * test failed, 3 when none ran.
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
        launcher.execute(request, summary, new PerTestLines());
        PrintWriter out = new PrintWriter(System.out, true);
        summary.getSummary().printTo(out);
        summary.getSummary().printFailuresTo(out, 25);
        long run = summary.getSummary().getTestsSucceededCount() + summary.getSummary().getTestsFailedCount();
        System.exit(summary.getSummary().getTotalFailureCount() > 0 ? 1 : run == 0 ? 3 : 0);
    }

    /** One line per finished or skipped test, so a slow or failing case shows in the log as it happens. */
    private static final class PerTestLines implements TestExecutionListener {
        private final java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                System.out.printf("SKIP %8s  %s (%s)%n", "", name(id), reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest()) {
                return;
            }
            long ms = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1_000_000;
            String outcome = switch (result.getStatus()) {
                case SUCCESSFUL -> "PASS";
                case FAILED -> "FAIL";
                case ABORTED -> "ABRT";
            };
            String why = result.getThrowable().map(t -> "  " + t.toString().split("\n")[0]).orElse("");
            System.out.printf("%s %8d  %s%s%n", outcome, ms, name(id), why);
        }

        private static String name(TestIdentifier id) {
            String u = id.getUniqueId();
            int cls = u.indexOf("[class:");
            return (cls >= 0 ? u.substring(u.lastIndexOf('.', u.indexOf(']', cls)) + 1) : u)
                    .replace("]/[method:", "#").replace("]/[test-template:", "#").replaceAll("\\]/\\[test-template-invocation:", "")
                    .replace("]", "");
        }
    }
}
