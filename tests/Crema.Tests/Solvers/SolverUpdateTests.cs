using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;

namespace Crema.Tests.Solvers;

/// <summary>
/// Each solver's update checked against an independent double-precision computation over 3 iterations on a linear
/// least-squares net (the approach of Caffe's test_gradient_based_solver): y = W·x + b, L = Σ(y − t)²/(2N).
/// </summary>
public class SolverUpdateTests
{
    private const int N = 4, D = 3, K = 2;

    private static SolverParameter MakeSolver(string extra)
    {
        string text = """
            net_param {
              layer { name: "data" type: "Input" top: "x" top: "t" input_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 } } }
              layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
                inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 1 } } }
              layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
            }
            max_iter: 10 random_seed: 1701 display: 0
            """ + "\n" + (extra.Contains("base_lr", StringComparison.Ordinal) ? "" : "base_lr: 0.1\n") + extra;
        return PrototxtParser.Parse<SolverParameter>(text, "solver.prototxt");
    }

    public static TheoryData<string> Cases =>
    [
        "type: \"SGD\" lr_policy: \"fixed\"",
        "type: \"SGD\" lr_policy: \"fixed\" momentum: 0.9 weight_decay: 0.01",
        "type: \"SGD\" lr_policy: \"step\" gamma: 0.5 stepsize: 1 momentum: 0.5",
        "type: \"SGD\" lr_policy: \"exp\" gamma: 0.9",
        "type: \"SGD\" lr_policy: \"inv\" gamma: 0.1 power: 0.75 momentum: 0.9 weight_decay: 0.0005",
        "type: \"SGD\" lr_policy: \"multistep\" gamma: 0.5 stepvalue: 1 stepvalue: 2",
        "type: \"SGD\" lr_policy: \"poly\" power: 2",
        "type: \"SGD\" lr_policy: \"sigmoid\" gamma: -0.5 stepsize: 2",
        "type: \"SGD\" lr_policy: \"fixed\" weight_decay: 0.1 regularization_type: \"L1\"",
        "type: \"SGD\" lr_policy: \"fixed\" clip_gradients: 0.1 momentum: 0.9",
        "type: \"SGD\" lr_policy: \"fixed\" iter_size: 3 momentum: 0.9",
        "type: \"Nesterov\" lr_policy: \"fixed\" momentum: 0.9 weight_decay: 0.01",
        "type: \"AdaGrad\" lr_policy: \"fixed\" weight_decay: 0.01",
        "type: \"RMSProp\" lr_policy: \"fixed\" rms_decay: 0.95",
        "type: \"AdaDelta\" lr_policy: \"fixed\" base_lr: 1 momentum: 0.95 delta: 1e-6",
        "type: \"Adam\" lr_policy: \"fixed\" base_lr: 0.01 momentum: 0.9 momentum2: 0.999",
        "type: \"AdamW\" lr_policy: \"fixed\" base_lr: 0.01 momentum: 0.9 momentum2: 0.999 weight_decay: 0.1",
        "solver_type: ADAM lr_policy: \"fixed\" base_lr: 0.01 momentum: 0.9",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThreeIterations_MatchHandComputation(string settings)
    {
        Log.Quiet = true;
        var param = MakeSolver(settings);
        using var solver = SolverFactory.Create(param);
        var x = TestBlobs.Gaussian(11, 1, N, D);
        var t = TestBlobs.Gaussian(12, 1, N, K);
        x.Data.CopyTo(solver.Net.Blob("x").Data);
        t.Data.CopyTo(solver.Net.Blob("t").Data);
        var reference = new Reference(param, solver.Net.LearnableParams[0].Data.ToArray(), solver.Net.LearnableParams[1].Data.ToArray(),
            x.Data.ToArray(), t.Data.ToArray());
        for (int iter = 0; iter < 3; iter++)
        {
            solver.Step(1);
            reference.Step(iter);
            TestBlobs.AssertClose(reference.Weights.Select(v => (float)v).ToArray(), solver.Net.LearnableParams[0].Data, 1e-4f);
            TestBlobs.AssertClose(reference.Bias.Select(v => (float)v).ToArray(), solver.Net.LearnableParams[1].Data, 1e-4f);
        }
        Assert.Equal(3, solver.Iteration);
    }

    /// <summary>The solvers' published update rules, written out in double precision.</summary>
    private sealed class Reference
    {
        private readonly SolverParameter _p;
        private readonly double[] _x, _t;
        private readonly double[][] _h1, _h2;
        private int _multistep;

        public Reference(SolverParameter p, float[] w, float[] b, float[] x, float[] t)
        {
            _p = p;
            Weights = w.Select(v => (double)v).ToArray();
            Bias = b.Select(v => (double)v).ToArray();
            _x = x.Select(v => (double)v).ToArray();
            _t = t.Select(v => (double)v).ToArray();
            _h1 = [new double[Weights.Length], new double[Bias.Length]];
            _h2 = [new double[Weights.Length], new double[Bias.Length]];
        }

        public double[] Weights { get; }
        public double[] Bias { get; }

        private string Type => _p.HasSolverType && !_p.HasType ? "Adam" : _p.Type;

        public void Step(int iter)
        {
            // dL/dW = Σ_n (y_n − t_n) x_nᵀ / N, dL/db = Σ_n (y_n − t_n) / N
            var gw = new double[K * D];
            var gb = new double[K];
            for (int n = 0; n < N; n++)
            {
                for (int k = 0; k < K; k++)
                {
                    double y = Bias[k];
                    for (int d = 0; d < D; d++)
                    {
                        y += Weights[k * D + d] * _x[n * D + d];
                    }
                    double r = (y - _t[n * K + k]) / N;
                    gb[k] += r;
                    for (int d = 0; d < D; d++)
                    {
                        gw[k * D + d] += r * _x[n * D + d];
                    }
                }
            }
            double[][] grads = [gw, gb];
            double[][] values = [Weights, Bias];
            double[] lrMult = [1, 2];
            double[] decayMult = [1, 0];
            if (_p.ClipGradients >= 0)
            {
                double norm = Math.Sqrt(grads.Sum(g => g.Sum(v => v * v)));
                if (norm > _p.ClipGradients)
                {
                    foreach (var g in grads)
                    {
                        for (int i = 0; i < g.Length; i++)
                        {
                            g[i] *= _p.ClipGradients / norm;
                        }
                    }
                }
            }
            double rate = Rate(iter);
            for (int j = 0; j < 2; j++)
            {
                var g = grads[j];
                var w = values[j];
                double decay = _p.WeightDecay * decayMult[j];
                if (Type != "AdamW")
                {
                    for (int i = 0; i < g.Length; i++)
                    {
                        g[i] += decay * (_p.RegularizationType == "L1" ? Math.Sign(w[i]) : w[i]);
                    }
                }
                double lr = rate * lrMult[j];
                for (int i = 0; i < g.Length; i++)
                {
                    w[i] -= Update(j, i, g[i], lr, iter, decay, w[i]);
                }
            }
        }

        private double Update(int j, int i, double g, double lr, int iter, double decay, double w)
        {
            double m = _p.Momentum, eps = _p.Delta;
            switch (Type)
            {
                case "SGD":
                    _h1[j][i] = m * _h1[j][i] + lr * g;
                    return _h1[j][i];
                case "Nesterov":
                {
                    double prev = _h1[j][i];
                    _h1[j][i] = m * prev + lr * g;
                    return (1 + m) * _h1[j][i] - m * prev;
                }
                case "AdaGrad":
                    _h1[j][i] += g * g;
                    return lr * g / (Math.Sqrt(_h1[j][i]) + eps);
                case "RMSProp":
                    _h1[j][i] = _p.RmsDecay * _h1[j][i] + (1 - _p.RmsDecay) * g * g;
                    return lr * g / (Math.Sqrt(_h1[j][i]) + eps);
                case "AdaDelta":
                {
                    _h1[j][i] = m * _h1[j][i] + (1 - m) * g * g;
                    double u = g * Math.Sqrt((_h2[j][i] + eps) / (_h1[j][i] + eps));
                    _h2[j][i] = m * _h2[j][i] + (1 - m) * u * u;
                    return lr * u;
                }
                default:
                {
                    double b1 = m, b2 = _p.Momentum2;
                    int step = iter + 1;
                    _h1[j][i] = b1 * _h1[j][i] + (1 - b1) * g;
                    _h2[j][i] = b2 * _h2[j][i] + (1 - b2) * g * g;
                    double correction = Math.Sqrt(1 - Math.Pow(b2, step)) / (1 - Math.Pow(b1, step));
                    double update = lr * correction * _h1[j][i] / (Math.Sqrt(_h2[j][i]) + eps);
                    return Type == "AdamW" ? update + lr * decay * w : update;
                }
            }
        }

        private double Rate(int iter)
        {
            double b = _p.BaseLr, gamma = _p.Gamma, power = _p.Power;
            switch (_p.LrPolicy)
            {
                case "fixed": return b;
                case "step": return b * Math.Pow(gamma, iter / _p.Stepsize);
                case "exp": return b * Math.Pow(gamma, iter);
                case "inv": return b * Math.Pow(1 + gamma * iter, -power);
                case "multistep":
                    while (_multistep < _p.Stepvalue.Count && iter >= _p.Stepvalue[_multistep])
                    {
                        _multistep++;
                    }
                    return b * Math.Pow(gamma, _multistep);
                case "poly": return b * Math.Pow(1 - (double)iter / _p.MaxIter, power);
                case "sigmoid": return b / (1 + Math.Exp(-gamma * (iter - _p.Stepsize)));
                default: throw new InvalidOperationException(_p.LrPolicy);
            }
        }
    }
}
