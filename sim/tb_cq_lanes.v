// ChannelQuant lanes, exhaustive: every input of the scale unit, the quantiser over a spread of
// scales, the dequantiser over every code. Run by sim/cq_lanes_check.py (parameters from golden).
`timescale 1ns/1ps
module tb_cq_lanes #(parameter integer N_Q = 1, N_D = 1, N_F = 1, MAGNITUDES = 1, RB = 1);
reg [14:0] amax = 0; reg wide = 0; wire [14:0] s_scale; wire [RB - 1:0] s_recip;
reg [15:0] x = 0; reg [14:0] qs = 0; reg [RB - 1:0] qr = 0; wire [7:0] q;
reg [7:0] code = 0; reg [15:0] ds = 0; reg raw = 0; wire [31:0] y;
reg [14:0] qscales [0:N_Q - 1]; reg [RB - 1:0] qrecips [0:N_Q - 1]; reg [15:0] dscales [0:N_D - 1]; reg [15:0] finite [0:N_F - 1];
integer i, j, w, f;
cq_scale_unit su (.amax_i(amax), .wide_i(wide), .scale_o(s_scale), .recip_o(s_recip));
cq_quant_lane ql (.x_i(x), .scale_i(qs), .recip_i(qr), .wide_i(wide), .q_o(q));
cq_dequant_lane dl (.code_i(code), .scale_i(ds), .raw_i(raw), .y_o(y));
initial begin
  $readmemh("qscales.hex", qscales); $readmemh("qrecips.hex", qrecips); $readmemh("dscales.hex", dscales); $readmemh("finite.hex", finite);
  // Icarus runs a combinational block only on an input change: change every input once
  amax = 1; x = 1; code = 1; ds = 1; #1;
  f = $fopen("scale.txt", "w");
  for (w = 0; w < 2; w = w + 1) for (i = 0; i < MAGNITUDES; i = i + 1) begin
    wide = w; amax = i; #1 $fwrite(f, "%h %h\n", s_scale, s_recip);
  end
  $fclose(f);
  f = $fopen("quant.txt", "w");
  for (w = 0; w < 2; w = w + 1) for (j = 0; j < N_Q; j = j + 1) begin
    wide = w; qs = qscales[j]; qr = qrecips[j];
    for (i = 0; i < N_F; i = i + 1) begin x = finite[i]; #1 $fwrite(f, "%h\n", q); end
  end
  $fclose(f);
  f = $fopen("dequant.txt", "w");
  raw = 0;
  for (j = 0; j < N_D; j = j + 1) for (i = 0; i < 256; i = i + 1) begin
    code = i; ds = dscales[j]; #1 $fwrite(f, "%h\n", y);
  end
  raw = 1;
  for (i = 0; i < N_F; i = i + 1) begin ds = finite[i]; #1 $fwrite(f, "%h\n", y); end
  $fclose(f);
  $finish;
end
endmodule
